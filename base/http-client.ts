// Shared plumbing (base/): imports nothing of Panoptes.
import http from 'node:http';
import https from 'node:https';
import { DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, HttpError, USER_AGENT, networkErrorText } from './http.js';

export interface RequestOptions {
  method?: string;
  /** Header names in any case (sent in lower case, as fetch does). */
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The whole exchange, redirects and a slow body included (default 30 s). */
  timeoutMs?: number;
  /** Refuse a response body larger than this (default 10 MiB), checked while reading. */
  maxBytes?: number;
  /** Redirects followed before giving up (default 20, as fetch). */
  maxRedirects?: number;
}

export interface RequestResult {
  status: number;
  ok: boolean;
  /** Where the answer came from, after redirects. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * How long an idle kept-alive connection stays open (undici's default too). A server's `Keep-Alive: timeout=N` hint
 * shortens it, so we close before the server does.
 */
const IDLE_SOCKET_MS = 4_000;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers that describe the body: dropped with it when a redirect turns the request into a GET. */
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'];
/** Credentials that must not follow a redirect to another origin. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

/**
 * HTTP requests sent again and again to the same few hosts (webhook actions): node:http(s) on kept-alive
 * connections, one pool per host:port, with what `boundedFetch` guarantees — one time limit over the whole exchange,
 * a body size cap checked while reading, redirects followed the way fetch follows them (301/302 turn a POST into a
 * GET, 303 anything but HEAD; 307/308 keep method and body; credentials stay behind when the origin changes), and
 * errors in one line. It is not fetch because fetch's machinery (web streams, header objects, an abort signal per
 * request) was 28 % of the agent's CPU profile on the peers bench's webhook job; without it the agent spends about
 * 45 % less CPU per delivered webhook. It asks for no compression
 * (no Accept-Encoding), so bodies arrive as sent. `close()` ends its connections.
 */
export class HttpClient {
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
    'https:': new https.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  };

  async request(url: string, options: RequestOptions = {}, signal?: AbortSignal): Promise<RequestResult> {
    const { timeoutMs = DEFAULT_TIMEOUT, maxBytes = DEFAULT_MAX_BYTES, maxRedirects = 20 } = options;
    let target = httpUrl(url);
    let method = (options.method ?? 'GET').toUpperCase();
    let body = options.body;
    const headers: Record<string, string> = { 'user-agent': USER_AGENT };
    for (const [k, v] of Object.entries(options.headers ?? {})) headers[k.toLowerCase()] = String(v);

    // Whatever ends the exchange early (the time limit, the caller's signal) destroys the request under way with
    // its reason; the exchange below then rejects with it.
    const stop: Stop = { reason: null, current: null };
    const end = (reason: Error) => {
      stop.reason ??= reason;
      stop.current?.destroy(stop.reason);
    };
    const timer = setTimeout(() => end(new HttpError(`timed out after ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    const onAbort = () => end(signal?.reason instanceof Error ? signal.reason : new HttpError('stopped'));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (let redirects = 0; ; redirects++) {
        const res = await this.exchange(target, method, headers, body, maxBytes, stop);
        const location = REDIRECTS.has(res.status) ? res.headers.location : undefined;
        if (!location) return res;
        if (redirects >= maxRedirects) throw new HttpError(`too many redirects (more than ${maxRedirects}) from ${url}`, res.status);
        const next = httpUrl(location, 'redirected to an address that is not http(s)', target);
        if (((res.status === 301 || res.status === 302) && method === 'POST') || (res.status === 303 && method !== 'GET' && method !== 'HEAD')) {
          method = 'GET';
          body = undefined;
          for (const h of BODY_HEADERS) delete headers[h];
        }
        if (next.origin !== target.origin) for (const h of CREDENTIAL_HEADERS) delete headers[h];
        target = next;
      }
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** One request and its answer, read up to `maxBytes`. A kept-alive connection the server closed meanwhile is retried once on a new one. */
  private exchange(target: URL, method: string, headers: Record<string, string>, body: string | Buffer | undefined, maxBytes: number, stop: Stop, retried = false): Promise<RequestResult> {
    return new Promise<RequestResult>((resolve, reject) => {
      if (stop.reason) return reject(stop.reason);
      const sent = { ...headers };
      if (body !== undefined || (method !== 'GET' && method !== 'HEAD')) sent['content-length'] = String(body === undefined ? 0 : Buffer.byteLength(body));
      let req: http.ClientRequest;
      try {
        req = (target.protocol === 'https:' ? https : http).request(target, { method, headers: sent, agent: this.agents[target.protocol as 'http:' | 'https:'] });
      } catch (err) {
        // A header name or value Node refuses (a control character in a rule's header, say).
        return reject(new HttpError(`the request to ${target.host} is not valid: ${(err as Error).message}`));
      }
      stop.current = req;
      let answered = false;
      const fail = (err: unknown) => {
        if (stop.reason) return reject(stop.reason);
        if (err instanceof HttpError) return reject(err);
        const e = err as NodeJS.ErrnoException;
        // Node's documented race: the server closed an idle kept-alive connection just as we reused it. Nothing of
        // ours reached it, so sending once more on a fresh connection is safe (and a webhook carries its key anyway).
        if (!answered && !retried && req.reusedSocket && e.code === 'ECONNRESET') {
          return resolve(this.exchange(target, method, headers, body, maxBytes, stop, true));
        }
        reject(new HttpError(networkErrorText(target.host, e.code, e.message)));
      };
      req.on('error', fail);
      req.on('response', (res) => {
        answered = true;
        const status = res.statusCode ?? 0;
        const declared = Number(res.headers['content-length'] ?? NaN);
        if (Number.isFinite(declared) && declared > maxBytes) {
          req.destroy();
          return reject(new HttpError(`response too large: ${declared} bytes (limit ${maxBytes})`, status));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.byteLength;
          if (size > maxBytes) {
            req.destroy();
            reject(new HttpError(`response too large: more than ${maxBytes} bytes`, status));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('end', () => resolve({ status, ok: status >= 200 && status < 300, url: target.href, headers: res.headers, body: Buffer.concat(chunks) }));
        // Closed before its end without an error event (the server went away mid-body).
        res.on('close', () => {
          if (!res.complete) fail(stop.reason ?? new HttpError(`${target.host} closed the connection before the answer ended`));
        });
      });
      req.end(body);
    });
  }

  /** Close every connection, idle or not. */
  close(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }
}

interface Stop {
  /** Why the exchange was ended early (the time limit, the caller's signal), once it was. */
  reason: Error | null;
  /** The request under way, to destroy when it is. */
  current: http.ClientRequest | null;
}

/** `url` parsed (relative to `base`, for a redirect's Location), when it is http or https; else an error saying `problem`. */
function httpUrl(url: string, problem = 'not an http(s) URL', base?: URL): URL {
  let u: URL;
  try {
    u = new URL(url, base);
  } catch {
    throw new HttpError(`not a valid URL: ${url}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new HttpError(`${problem}: ${url}`);
  return u;
}
