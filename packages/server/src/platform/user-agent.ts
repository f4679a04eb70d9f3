import { UAParser } from 'ua-parser-js';

export interface ParsedUserAgent {
  os: string | null;
  browser: string | null;
  device: string | null;
}

const EMPTY: ParsedUserAgent = { os: null, browser: null, device: null };

/**
 * Parses user agents for audit rows and passkey records. Clients send the same few strings
 * thousands of times, so results are kept in a small bounded cache instead of parsed per request.
 */
export function createUserAgentParser(maxEntries = 1000): (ua: string | null) => ParsedUserAgent {
  const cache = new Map<string, ParsedUserAgent>();
  return (ua) => {
    if (!ua) return EMPTY;
    const hit = cache.get(ua);
    if (hit) return hit;
    const result = new UAParser(ua.slice(0, 512)).getResult();
    const join = (...parts: (string | undefined)[]) => parts.filter(Boolean).join(' ') || null;
    const parsed: ParsedUserAgent = {
      os: join(result.os.name, result.os.version),
      browser: join(result.browser.name, result.browser.major),
      device: result.device.type ?? 'desktop',
    };
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(ua, parsed);
    return parsed;
  };
}
