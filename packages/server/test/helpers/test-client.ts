/** The answer to one request, with the body parsed when it is JSON. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON bodies
export interface TestResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Send the body as-is (a string) instead of JSON.stringify; for malformed-body tests. */
  raw?: string;
  contentType?: string | null;
  /** Leave out the cookie jar for this request. */
  noCookies?: boolean;
}

/**
 * A tiny browser stand-in over fetch: a cookie jar, the Origin header of the site, JSON bodies.
 * Each instance is one client; the ceremony cookie and the session cookie live in its jar.
 */
export class TestClient {
  readonly baseUrl: string;
  readonly origin: string | null;
  readonly cookies = new Map<string, string>();
  /** Sent as Authorization: Bearer when set. */
  bearer: string | undefined;

  constructor(baseUrl: string, origin: string | null) {
    this.baseUrl = baseUrl;
    this.origin = origin;
  }

  async request(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<TestResponse> {
    const headers: Record<string, string> = {};
    if (this.origin) headers.origin = this.origin;
    if (body !== undefined || options.raw !== undefined) {
      if (options.contentType !== null) headers['content-type'] = options.contentType ?? 'application/json';
    }
    if (!options.noCookies && this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    Object.assign(headers, options.headers);
    const response = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: options.raw ?? (body === undefined ? undefined : JSON.stringify(body)),
      redirect: 'manual',
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /max-age=0\b/i.test(a.trim()) || /expires=thu, 01 jan 1970/i.test(a.trim()));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await response.text();
    let parsed: unknown = text;
    // JSON and problem+json, not NDJSON (a stream of documents, read as text).
    if (/[/+]json\b/.test(response.headers.get('content-type') ?? '') && text) parsed = JSON.parse(text);
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  get(path: string, options?: RequestOptions) {
    return this.request('GET', path, undefined, options);
  }
  post(path: string, body?: unknown, options?: RequestOptions) {
    return this.request('POST', path, body ?? {}, options);
  }
  patch(path: string, body?: unknown, options?: RequestOptions) {
    return this.request('PATCH', path, body ?? {}, options);
  }
  delete(path: string, options?: RequestOptions) {
    return this.request('DELETE', path, undefined, options);
  }
}
