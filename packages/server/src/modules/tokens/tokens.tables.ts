/** Tables owned by the tokens module; only its repository queries them. */
export interface SigningKeysTable {
  /** RFC 7638 JWK thumbprint of the public key. */
  kid: string;
  /** 1, 2, 3…: unique, so two nodes cannot both add the next key. */
  seq: number;
  /** 'ES256'. */
  alg: string;
  /** JSON of the public JWK (kty, crv, x, y). */
  public_jwk: string;
  /** The private JWK, sealed with the secret box (keys.ts `tokenSigningKeys`), the kid as associated data. */
  private_key_sealed: string;
  created_at: number;
  /** Signs from here on (published in the JWKS from created_at). */
  activated_at: number;
  /** When the next key took over; null while it is the newest. */
  retired_at: number | null;
  /** Leaves the JWKS at this time; null while it is the newest. */
  published_until: number | null;
}

/** Login results redeemed online: a second redemption of the same jti is refused. */
export interface RedeemedLoginResultsTable {
  jti: string;
  /** The token's exp (ms); swept after it. */
  expires_at: number;
  redeemed_at: number;
}
