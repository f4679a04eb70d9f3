import { utf8 } from './bytes.ts';
import type { ClientDataTamper } from './types.ts';

/** The honest `CollectedClientData` members. */
export interface ClientDataInit {
  type: 'webauthn.create' | 'webauthn.get';
  /** Challenge as base64url, exactly as it should appear. */
  challenge: string;
  origin: string;
  /** Default false; always written (as browsers do). */
  crossOrigin?: boolean;
  /** Written only when set. */
  topOrigin?: string;
}

const TAMPERABLE = ['type', 'challenge', 'origin', 'crossOrigin', 'topOrigin'] as const;

/**
 * Serialises `clientDataJSON` in browser member order (`type`, `challenge`, `origin`,
 * `crossOrigin`[, `topOrigin`]) with one `JSON.stringify`, then applies the tamper:
 * overrides, omissions (members present with value `undefined`), `extra` members, or `raw` bytes.
 */
export function buildClientDataJSON(init: ClientDataInit, tamper?: ClientDataTamper): Uint8Array<ArrayBuffer> {
  if (tamper?.raw !== undefined) {
    return typeof tamper.raw === 'string' ? utf8(tamper.raw) : new Uint8Array(tamper.raw);
  }
  const data: Record<string, unknown> = {
    type: init.type,
    challenge: init.challenge,
    origin: init.origin,
    crossOrigin: init.crossOrigin ?? false,
  };
  if (init.topOrigin !== undefined) data.topOrigin = init.topOrigin;
  if (tamper) {
    for (const key of TAMPERABLE) {
      if (!Object.hasOwn(tamper, key)) continue;
      const value = tamper[key];
      if (value === undefined) delete data[key];
      else data[key] = value;
    }
    if (tamper.extra) Object.assign(data, tamper.extra);
  }
  return utf8(JSON.stringify(data));
}
