import { Buffer } from 'node:buffer';

/**
 * Encodes bytes as unpadded base64url (RFC 4648 §5), the encoding WebAuthn JSON uses.
 */
export function base64urlEncode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Decodes base64url (padded or not) into bytes. Lenient like Node's decoder:
 * characters outside the alphabet are skipped, so validate separately if that matters.
 */
export function base64urlDecode(text: string): Uint8Array<ArrayBuffer> {
  const buf = Buffer.from(text, 'base64url');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Re-encodes a base64url string in canonical unpadded form (what a browser produces after
 * decoding a JSON option value and encoding it again).
 */
export function base64urlNormalize(text: string): string {
  return Buffer.from(text, 'base64url').toString('base64url');
}

/** base64url helpers grouped: `base64url.encode(bytes)`, `base64url.decode(text)`. */
export const base64url = {
  encode: base64urlEncode,
  decode: base64urlDecode,
  normalize: base64urlNormalize,
} as const;
