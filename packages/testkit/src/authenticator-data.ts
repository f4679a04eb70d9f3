import { concatBytes } from './bytes.ts';

/** Authenticator data flag bits (WebAuthn §6.1). */
export const AuthDataFlag = {
  /** User Present. */
  UP: 0x01,
  /** User Verified. */
  UV: 0x04,
  /** Backup Eligible. */
  BE: 0x08,
  /** Backup State. */
  BS: 0x10,
  /** Attested credential data included. */
  AT: 0x40,
  /** Extension data included. */
  ED: 0x80,
} as const;

/** Flag values as booleans; see {@link flagsByte}. */
export interface AuthDataFlags {
  up?: boolean;
  uv?: boolean;
  be?: boolean;
  bs?: boolean;
  at?: boolean;
  ed?: boolean;
}

/** Packs booleans into the authenticator data flags byte. */
export function flagsByte(flags: AuthDataFlags): number {
  return (
    (flags.up ? AuthDataFlag.UP : 0) |
    (flags.uv ? AuthDataFlag.UV : 0) |
    (flags.be ? AuthDataFlag.BE : 0) |
    (flags.bs ? AuthDataFlag.BS : 0) |
    (flags.at ? AuthDataFlag.AT : 0) |
    (flags.ed ? AuthDataFlag.ED : 0)
  );
}

/** Inputs to {@link encodeAuthenticatorData}. Nothing is validated, so any of it can be wrong on purpose. */
export interface AuthenticatorDataInit {
  /** SHA-256 of the RP ID (normally 32 bytes; written as given). */
  rpIdHash: Uint8Array;
  /** The flags byte (see {@link flagsByte}); only the low 8 bits are written. */
  flags: number;
  /** Signature counter, written as a 32-bit big-endian unsigned integer (taken modulo 2^32). */
  signCount: number;
  /** Attested credential data (see {@link encodeAttestedCredentialData}); appended after the counter. */
  attestedCredentialData?: Uint8Array;
  /** CBOR-encoded extension outputs map; appended after attested credential data. */
  extensions?: Uint8Array;
  /** Extra bytes appended at the very end (a structurally invalid "leftover bytes" authData). */
  trailing?: Uint8Array;
}

/**
 * Serialises authenticator data: `rpIdHash(32) | flags(1) | signCount(4, BE) | [attestedCredentialData] | [extensions] | [trailing]`.
 * Flags are written as given; set AT/ED yourself when including those parts.
 */
export function encodeAuthenticatorData(init: AuthenticatorDataInit): Uint8Array<ArrayBuffer> {
  const fixed = new Uint8Array(5);
  const view = new DataView(fixed.buffer);
  view.setUint8(0, init.flags & 0xff);
  view.setUint32(1, init.signCount >>> 0);
  const parts: Uint8Array[] = [init.rpIdHash, fixed];
  if (init.attestedCredentialData) parts.push(init.attestedCredentialData);
  if (init.extensions) parts.push(init.extensions);
  if (init.trailing) parts.push(init.trailing);
  return concatBytes(...parts);
}

/**
 * Serialises attested credential data: `aaguid(16) | credentialIdLength(2, BE) | credentialId | cosePublicKey`.
 * The length field is the id's length modulo 2^16 (so an oversized id produces a lying length).
 */
export function encodeAttestedCredentialData(aaguid: Uint8Array, credentialId: Uint8Array, cosePublicKey: Uint8Array): Uint8Array<ArrayBuffer> {
  const len = new Uint8Array(2);
  new DataView(len.buffer).setUint16(0, credentialId.byteLength & 0xffff);
  return concatBytes(aaguid, len, credentialId, cosePublicKey);
}
