import { fromBase64Url } from '../../platform/encoding.ts';

export interface ClientData {
  type: string;
  challenge: string;
  origin: string;
  crossOrigin: boolean | undefined;
  topOrigin: string | undefined;
}

export type ClientDataResult = { ok: true; clientData: ClientData } | { ok: false; problem: string };

const MAX_CLIENT_DATA_BYTES = 4096;
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Some older client libraries pad their base64url (RFC 4648 §5 allows it); correct padding is
 * dropped, anything else is left for the strict decoder to refuse.
 */
export function withoutPadding(text: string): string {
  const bare = text.replace(/={1,2}$/, '');
  const pads = text.length - bare.length;
  return pads > 0 && bare.length % 4 === 4 - pads ? bare : text;
}

/**
 * Decodes clientDataJSON once, strictly (SEC-02): UTF-8 only, a leading BOM stripped (WebAuthn
 * L3 §7.1 step 5 says "UTF-8 decode"), duplicate keys refused rather than last-one-wins, and the
 * members we rely on type-checked. The same bytes then go to the library, which agrees with us
 * because we refuse every input on which two JSON parsers could disagree.
 */
export function parseClientData(clientDataJSON: unknown): ClientDataResult {
  if (typeof clientDataJSON !== 'string') return { ok: false, problem: 'clientDataJSON must be a base64url string' };
  const bytes = fromBase64Url(withoutPadding(clientDataJSON));
  if (!bytes) return { ok: false, problem: 'clientDataJSON is not base64url' };
  if (bytes.length === 0 || bytes.length > MAX_CLIENT_DATA_BYTES) return { ok: false, problem: 'clientDataJSON has an unexpected size' };
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { ok: false, problem: 'clientDataJSON is not UTF-8' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'clientDataJSON is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, problem: 'clientDataJSON is not a JSON object' };
  if (hasDuplicateKeys(text)) return { ok: false, problem: 'clientDataJSON has duplicate keys' };
  const data = parsed as Record<string, unknown>;
  if (typeof data.type !== 'string') return { ok: false, problem: 'clientDataJSON.type is missing' };
  if (typeof data.challenge !== 'string' || !/^[A-Za-z0-9_-]{1,256}$/.test(data.challenge)) {
    return { ok: false, problem: 'clientDataJSON.challenge is missing' };
  }
  if (typeof data.origin !== 'string') return { ok: false, problem: 'clientDataJSON.origin is missing' };
  if (data.crossOrigin !== undefined && typeof data.crossOrigin !== 'boolean') return { ok: false, problem: 'clientDataJSON.crossOrigin is not a boolean' };
  if (data.topOrigin !== undefined && typeof data.topOrigin !== 'string') return { ok: false, problem: 'clientDataJSON.topOrigin is not a string' };
  return {
    ok: true,
    clientData: { type: data.type, challenge: data.challenge, origin: data.origin, crossOrigin: data.crossOrigin, topOrigin: data.topOrigin },
  };
}

/**
 * Scans already-valid JSON for an object with the same key twice. Works on the text because
 * JSON.parse silently keeps the last duplicate.
 */
export function hasDuplicateKeys(json: string): boolean {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
      expectKey = false;
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = stack.at(-1) instanceof Set;
    } else if (c === '"') {
      let end = i + 1;
      while (json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(json.slice(i, end + 1)) as string;
        const keys = stack.at(-1);
        if (keys?.has(key)) return true;
        keys?.add(key);
        expectKey = false;
      }
      i = end;
    }
  }
  return false;
}

/**
 * WebAuthn L3 §7.1 steps 9–10 / §7.2 steps 13–14 (SEC-04): a response made inside a
 * cross-origin iframe is refused unless its top-level origin is configured.
 */
export function crossOriginProblem(clientData: ClientData, allowedTopOrigins: readonly string[]): string | undefined {
  if (clientData.crossOrigin === true || clientData.topOrigin !== undefined) {
    if (allowedTopOrigins.length === 0) return 'cross-origin ceremonies are not allowed';
    if (clientData.crossOrigin !== true || clientData.topOrigin === undefined) return 'crossOrigin and topOrigin disagree';
    if (!allowedTopOrigins.includes(clientData.topOrigin)) return `top origin ${clientData.topOrigin} is not allowed`;
  }
  return undefined;
}
