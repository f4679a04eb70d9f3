import { CommonErrors } from '../../errors/common.errors.ts';

/**
 * Opaque page cursors: base64url of `[number, id]`, the position after which (or before which)
 * the next page starts. Clients must not build them; anything malformed is a 400.
 */
export function encodeCursor(at: number, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

export function decodeCursor(cursor: string): { at: number; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string' && value[1].length <= 64) {
      return { at: value[0] as number, id: value[1] };
    }
  } catch {
    // fall through
  }
  throw CommonErrors.invalid_request({ detail: '/cursor: not a cursor this server returned' });
}
