/**
 * A small, strict CBOR reader (RFC 8949) for the parts of a registration we check ourselves
 * before the library: the attestation object and the credential public key (COSE_Key). It
 * refuses what CTAP2's canonical encoding never produces and two parsers could read differently
 * (SEC-15): indefinite lengths, tags, floats, duplicate map keys, deep nesting, leftover bytes.
 */
export type CborValue = number | bigint | string | boolean | null | undefined | Uint8Array | CborValue[] | Map<CborKey, CborValue>;
export type CborKey = number | bigint | string;

export class CborError extends Error {}

const MAX_DEPTH = 16;
const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  pos = 0;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(n: number): void {
    if (this.pos + n > this.bytes.byteLength) throw new CborError('unexpected end of CBOR input');
  }

  argument(info: number): number | bigint {
    if (info < 24) return info;
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
    if (size === 0) throw new CborError(info === 31 ? 'indefinite-length CBOR item' : `reserved CBOR additional information ${info}`);
    this.need(size);
    const at = this.pos;
    this.pos += size;
    if (size === 1) return this.view.getUint8(at);
    if (size === 2) return this.view.getUint16(at);
    if (size === 4) return this.view.getUint32(at);
    const value = this.view.getBigUint64(at);
    return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }

  length(info: number): number {
    const n = this.argument(info);
    if (typeof n === 'bigint' || n > this.bytes.byteLength) throw new CborError('CBOR length beyond the input');
    return n;
  }

  item(depth: number): CborValue {
    if (depth > MAX_DEPTH) throw new CborError('CBOR nested too deeply');
    this.need(1);
    const initial = this.view.getUint8(this.pos++);
    const major = initial >> 5;
    const info = initial & 0x1f;
    switch (major) {
      case 0:
        return this.argument(info);
      case 1: {
        const n = this.argument(info);
        return typeof n === 'bigint' ? -1n - n : n === Number.MAX_SAFE_INTEGER ? -1n - BigInt(n) : -1 - n;
      }
      case 2: {
        const n = this.length(info);
        this.need(n);
        this.pos += n;
        return this.bytes.slice(this.pos - n, this.pos);
      }
      case 3: {
        const n = this.length(info);
        this.need(n);
        this.pos += n;
        try {
          return utf8.decode(this.bytes.subarray(this.pos - n, this.pos));
        } catch {
          throw new CborError('CBOR text string is not UTF-8');
        }
      }
      case 4: {
        const n = this.length(info);
        const items: CborValue[] = [];
        for (let i = 0; i < n; i++) items.push(this.item(depth + 1));
        return items;
      }
      case 5: {
        const n = this.length(info);
        const map = new Map<CborKey, CborValue>();
        for (let i = 0; i < n; i++) {
          const key = this.item(depth + 1);
          if (typeof key !== 'number' && typeof key !== 'bigint' && typeof key !== 'string') throw new CborError('CBOR map key is not an integer or text');
          if (map.has(key)) throw new CborError(`duplicate CBOR map key ${String(key)}`);
          map.set(key, this.item(depth + 1));
        }
        return map;
      }
      case 6:
        throw new CborError('CBOR tags are not allowed here');
      default:
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22) return null;
        if (info === 23) return undefined;
        throw new CborError('CBOR floats and other simple values are not allowed here');
    }
  }
}

/** Decodes one item from the start of `bytes`; `length` is how many bytes it took. */
export function decodeCborPrefix(bytes: Uint8Array): { value: CborValue; length: number } {
  const reader = new Reader(bytes);
  const value = reader.item(0);
  return { value, length: reader.pos };
}

/** Decodes exactly one item; leftover bytes are an error. */
export function decodeCbor(bytes: Uint8Array): CborValue {
  const { value, length } = decodeCborPrefix(bytes);
  if (length !== bytes.byteLength) throw new CborError(`${bytes.byteLength - length} bytes after the CBOR item`);
  return value;
}
