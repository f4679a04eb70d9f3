import { concatBytes, utf8 } from './bytes.ts';

/**
 * Pre-encoded CBOR bytes spliced verbatim into the output of {@link encodeCbor}. Lets a test
 * build structures the encoder would refuse or normalise (duplicate map keys, non-minimal
 * lengths, indefinite-length items, garbage).
 */
export class CborRaw {
  /** The bytes written as-is. */
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
}

/** Wraps pre-encoded bytes so {@link encodeCbor} writes them unchanged. */
export function cborRaw(bytes: Uint8Array): CborRaw {
  return new CborRaw(bytes);
}

/**
 * A value {@link encodeCbor} can encode and {@link decodeCbor} returns.
 * - `number`: integers become CBOR ints (major 0/1); other numbers become float64.
 * - `bigint`: 64-bit ints.
 * - `Map`: a CBOR map with keys of any type (use it for COSE's integer keys).
 * - plain object: a CBOR map with text keys.
 * - `CborRaw`: pre-encoded bytes (encode only).
 */
export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | CborRaw
  | readonly CborValue[]
  | ReadonlyMap<CborValue, CborValue>
  | { readonly [key: string]: CborValue };

/** Options for {@link encodeCbor}. */
export interface EncodeCborOptions {
  /**
   * Sort map keys in CTAP2 canonical order (shorter encoded key first, then bytewise).
   * Default true; pass false to keep insertion order (for non-canonical test inputs).
   */
  canonical?: boolean;
}

const MAJOR_UINT = 0;
const MAJOR_NEGINT = 1;
const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;
const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;
const MAJOR_SIMPLE = 7;

function head(major: number, length: number | bigint): Uint8Array {
  const m = major << 5;
  const n = typeof length === 'bigint' ? length : BigInt(length);
  if (n < 0n) throw new RangeError('CBOR length/argument must be non-negative');
  if (n < 24n) return Uint8Array.of(m | Number(n));
  if (n < 0x100n) return Uint8Array.of(m | 24, Number(n));
  if (n < 0x10000n) {
    const out = new Uint8Array(3);
    out[0] = m | 25;
    new DataView(out.buffer).setUint16(1, Number(n));
    return out;
  }
  if (n < 0x100000000n) {
    const out = new Uint8Array(5);
    out[0] = m | 26;
    new DataView(out.buffer).setUint32(1, Number(n));
    return out;
  }
  if (n < 0x10000000000000000n) {
    const out = new Uint8Array(9);
    out[0] = m | 27;
    new DataView(out.buffer).setBigUint64(1, n);
    return out;
  }
  throw new RangeError('CBOR integer does not fit in 64 bits');
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  if (a.byteLength !== b.byteLength) return a.byteLength - b.byteLength;
  for (let i = 0; i < a.byteLength; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function isPlainObject(value: object): value is { readonly [key: string]: CborValue } {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function encodeInto(value: CborValue, canonical: boolean, out: Uint8Array[]): void {
  switch (typeof value) {
    case 'number': {
      if (Number.isInteger(value)) {
        if (!Number.isSafeInteger(value)) throw new RangeError(`unsafe integer ${value}: pass a bigint`);
        out.push(value >= 0 ? head(MAJOR_UINT, value) : head(MAJOR_NEGINT, -1 - value));
      } else {
        const f = new Uint8Array(9);
        f[0] = (MAJOR_SIMPLE << 5) | 27;
        new DataView(f.buffer).setFloat64(1, value);
        out.push(f);
      }
      return;
    }
    case 'bigint':
      out.push(value >= 0n ? head(MAJOR_UINT, value) : head(MAJOR_NEGINT, -1n - value));
      return;
    case 'string': {
      const bytes = utf8(value);
      out.push(head(MAJOR_TEXT, bytes.byteLength), bytes);
      return;
    }
    case 'boolean':
      out.push(Uint8Array.of(value ? 0xf5 : 0xf4));
      return;
    case 'undefined':
      out.push(Uint8Array.of(0xf7));
      return;
    case 'object':
      break;
    default:
      throw new TypeError(`cannot CBOR-encode a ${typeof value}`);
  }
  if (value === null) {
    out.push(Uint8Array.of(0xf6));
    return;
  }
  if (value instanceof CborRaw) {
    out.push(value.bytes);
    return;
  }
  if (value instanceof Uint8Array) {
    out.push(head(MAJOR_BYTES, value.byteLength), value);
    return;
  }
  if (Array.isArray(value)) {
    const items: readonly CborValue[] = value;
    out.push(head(MAJOR_ARRAY, items.length));
    for (const item of items) encodeInto(item, canonical, out);
    return;
  }
  let entries: [CborValue, CborValue][];
  if (value instanceof Map) {
    entries = [...(value as ReadonlyMap<CborValue, CborValue>).entries()];
  } else if (isPlainObject(value)) {
    entries = Object.entries(value);
  } else {
    throw new TypeError('cannot CBOR-encode this object (use a Map, plain object, array, Uint8Array or CborRaw)');
  }
  const encoded = entries.map(([k, v]): [Uint8Array, Uint8Array] => [encodeCbor(k, { canonical }), encodeCbor(v, { canonical })]);
  if (canonical) encoded.sort((a, b) => compareBytes(a[0], b[0]));
  out.push(head(MAJOR_MAP, encoded.length));
  for (const [k, v] of encoded) out.push(k, v);
}

/**
 * Encodes a value as CBOR (RFC 8949), by default in the CTAP2 canonical form authenticators
 * use: minimal-length heads, definite lengths, map keys sorted length-first then bytewise.
 *
 * @example
 * encodeCbor(new Map([[1, 2], [3, -7]])) // COSE-style integer keys
 * encodeCbor({ fmt: 'none', attStmt: {}, authData })
 */
export function encodeCbor(value: CborValue, options: EncodeCborOptions = {}): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  encodeInto(value, options.canonical ?? true, parts);
  return concatBytes(...parts);
}

class Reader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  pos = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(n: number): void {
    if (this.pos + n > this.bytes.byteLength) throw new RangeError('CBOR: unexpected end of input');
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.pos++);
  }

  argument(info: number): number | bigint {
    if (info < 24) return info;
    switch (info) {
      case 24:
        return this.u8();
      case 25: {
        this.need(2);
        const v = this.view.getUint16(this.pos);
        this.pos += 2;
        return v;
      }
      case 26: {
        this.need(4);
        const v = this.view.getUint32(this.pos);
        this.pos += 4;
        return v;
      }
      case 27: {
        this.need(8);
        const v = this.view.getBigUint64(this.pos);
        this.pos += 8;
        return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      default:
        throw new RangeError(`CBOR: unsupported additional info ${info} (indefinite lengths are not supported)`);
    }
  }

  length(info: number): number {
    const n = this.argument(info);
    if (typeof n === 'bigint') throw new RangeError('CBOR: length too large');
    return n;
  }

  take(n: number): Uint8Array<ArrayBuffer> {
    this.need(n);
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return new Uint8Array(out);
  }

  item(depth: number): CborValue {
    if (depth > 64) throw new RangeError('CBOR: nesting too deep');
    const initial = this.u8();
    const major = initial >> 5;
    const info = initial & 0x1f;
    switch (major) {
      case MAJOR_UINT:
        return this.argument(info);
      case MAJOR_NEGINT: {
        const n = this.argument(info);
        return typeof n === 'bigint' ? -1n - n : -1 - n;
      }
      case MAJOR_BYTES:
        return this.take(this.length(info));
      case MAJOR_TEXT:
        return new TextDecoder('utf-8', { fatal: true }).decode(this.take(this.length(info)));
      case MAJOR_ARRAY: {
        const n = this.length(info);
        const items: CborValue[] = [];
        for (let i = 0; i < n; i++) items.push(this.item(depth + 1));
        return items;
      }
      case MAJOR_MAP: {
        const n = this.length(info);
        const map = new Map<CborValue, CborValue>();
        for (let i = 0; i < n; i++) {
          const key = this.item(depth + 1);
          if (map.has(key)) throw new RangeError(`CBOR: duplicate map key ${String(key)}`);
          map.set(key, this.item(depth + 1));
        }
        return map;
      }
      case 6:
        throw new RangeError('CBOR: tags are not supported');
      default:
        return this.simple(info);
    }
  }

  simple(info: number): CborValue {
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        return undefined;
      case 25: {
        this.need(2);
        const half = this.view.getUint16(this.pos);
        this.pos += 2;
        const exp = (half >> 10) & 0x1f;
        const mant = half & 0x3ff;
        const sign = half & 0x8000 ? -1 : 1;
        if (exp === 0) return sign * mant * 2 ** -24;
        if (exp === 31) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
        return sign * (1 + mant / 1024) * 2 ** (exp - 15);
      }
      case 26: {
        this.need(4);
        const v = this.view.getFloat32(this.pos);
        this.pos += 4;
        return v;
      }
      case 27: {
        this.need(8);
        const v = this.view.getFloat64(this.pos);
        this.pos += 8;
        return v;
      }
      default:
        throw new RangeError(`CBOR: unsupported simple value ${info}`);
    }
  }
}

/**
 * Decodes one CBOR item from the start of `bytes` and reports how many bytes it used
 * (e.g. to find where a COSE key ends inside authenticator data).
 * Maps decode to `Map` (keys may be numbers or strings), byte strings to `Uint8Array`,
 * integers beyond 2^53 to `bigint`. Tags and indefinite lengths are rejected.
 */
export function decodeCborPrefix(bytes: Uint8Array): { value: CborValue; length: number } {
  const reader = new Reader(bytes);
  const value = reader.item(0);
  return { value, length: reader.pos };
}

/**
 * Decodes exactly one CBOR item; throws if bytes are left over. See {@link decodeCborPrefix}
 * for the value mapping. Handy for picking a real response apart, changing it and
 * re-encoding it with {@link encodeCbor}.
 */
export function decodeCbor(bytes: Uint8Array): CborValue {
  const { value, length } = decodeCborPrefix(bytes);
  if (length !== bytes.byteLength) throw new RangeError(`CBOR: ${bytes.byteLength - length} trailing bytes`);
  return value;
}
