/**
 * What polling monitors need on top of a bounded fetch (timeout, size cap, decompression, redirects — see
 * http.ts): conditional GET with ETag / Last-Modified, basic auth, a readable error for HTTP failures, and a
 * per-host concurrency limit so twenty feeds on one server do not hit it at once.
 *
 * The fetch itself is injected (normally the monitor context's `ctx.fetch`, which the host ties to the instance's
 * lifetime), so this module holds no sockets of its own.
 */
import { boundedFetch, HttpError, type FetchOptions, type FetchResult } from './http.js';

export type FetchFn = (url: string, options?: FetchOptions) => Promise<FetchResult>;

/** What a server told us last time, sent back so it can answer 304 Not Modified. */
export interface Validators {
  etag?: string | null;
  lastModified?: string | null;
}

export interface GetOptions {
  fetch?: FetchFn;
  validators?: Validators;
  accept?: string;
  headers?: Record<string, string>;
  basicAuth?: { username: string; password: string } | null;
  timeoutMs?: number;
  maxBytes?: number;
  /** Waiting for a free slot stops when this aborts. */
  signal?: AbortSignal;
  limiter?: HostLimiter;
}

/** `movedPermanently`: every redirect on the way was 301 or 308, so the final `url` is the resource's address now. */
export type GetResult =
  | { notModified: true; status: 304; url: string; headers: Headers; validators: Validators; movedPermanently: boolean }
  | { notModified: false; status: number; url: string; headers: Headers; body: Buffer; validators: Validators; movedPermanently: boolean };

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

export class HttpStatusError extends Error {
  constructor(readonly status: number, readonly url: string, statusText = '') {
    super(`HTTP ${status}${statusText ? ' ' + statusText : ''} from ${hostOf(url)}`);
    this.name = 'HttpStatusError';
  }
}

/**
 * GET a resource; 304 comes back as `notModified`, other non-2xx statuses throw HttpStatusError. Validators in the
 * result are the ones to send next time (kept from the request when the server sent none on a 304).
 */
export async function conditionalGet(url: string, options: GetOptions = {}): Promise<GetResult> {
  const parsed = parseHttpUrl(url);
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.accept) headers['accept'] = options.accept;
  // undici decodes all three; saying so explicitly keeps servers from sending an encoding we cannot read.
  headers['accept-encoding'] = 'gzip, deflate, br';
  const v = options.validators ?? {};
  if (v.etag) headers['if-none-match'] = v.etag;
  if (v.lastModified) headers['if-modified-since'] = v.lastModified;
  if (options.basicAuth) {
    const token = Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`, 'utf8').toString('base64');
    headers['authorization'] = `Basic ${token}`;
  }
  const fetchFn = options.fetch ?? ((u: string, o?: FetchOptions) => boundedFetch(u, o, options.signal));
  const limiter = options.limiter ?? sharedHostLimiter;
  // Redirects are followed here rather than inside fetch, to know whether they were all permanent (a feed that has
  // moved for good is then polled at its new address).
  const fetchOptions: FetchOptions = { method: 'GET', headers, redirect: 'manual' };
  if (options.timeoutMs !== undefined) fetchOptions.timeoutMs = options.timeoutMs;
  if (options.maxBytes !== undefined) fetchOptions.maxBytes = options.maxBytes;
  let current = url;
  let movedPermanently = false;
  let res = await limiter.run(parsed.host, () => fetchFn(current, fetchOptions), options.signal);
  for (let hops = 0; REDIRECTS.has(res.status) && res.headers.get('location'); hops++) {
    if (hops === MAX_REDIRECTS) throw new HttpError(`more than ${MAX_REDIRECTS} redirects from ${hostOf(url)}`, res.status);
    let target: URL;
    try {
      target = new URL(res.headers.get('location')!, current);
    } catch {
      throw new HttpError(`redirected to an address that is not valid: ${JSON.stringify(res.headers.get('location'))}`, res.status);
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new HttpError(`redirected to a ${target.protocol} address, which is not followed`, res.status);
    movedPermanently = (hops === 0 || movedPermanently) && (res.status === 301 || res.status === 308);
    // Credentials go only to the origin they were configured for.
    if (target.origin !== new URL(current).origin) delete headers['authorization'];
    current = target.href;
    res = await limiter.run(target.host, () => fetchFn(current, fetchOptions), options.signal);
  }

  const next: Validators = {
    etag: res.headers.get('etag') ?? (res.status === 304 ? v.etag ?? null : null),
    lastModified: res.headers.get('last-modified') ?? (res.status === 304 ? v.lastModified ?? null : null),
  };
  if (res.status === 304) return { notModified: true, status: 304, url: current, headers: res.headers, validators: next, movedPermanently };
  if (res.status < 200 || res.status > 299) throw new HttpStatusError(res.status, current, STATUS_TEXT[res.status] ?? '');
  return { notModified: false, status: res.status, url: current, headers: res.headers, body: res.body, validators: next, movedPermanently };
}

/** Only http(s): a monitor must never be pointed at file:, data: or anything else by a config value. */
export function parseHttpUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`not a valid URL: ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`only http and https URLs are supported, got ${u.protocol}`);
  return u;
}

/**
 * At most `limit` requests in flight per host; the rest wait in order. Hosts are counted by `host:port`, so two
 * monitors on one server share its slots whichever monitor instance they belong to.
 */
export class HostLimiter {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new Error('host limit must be at least 1');
  }

  inFlight(host: string): number {
    return this.active.get(host) ?? 0;
  }

  async run<T>(host: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(host, signal);
    try {
      return await task();
    } finally {
      this.release(host);
    }
  }

  private acquire(host: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const n = this.active.get(host) ?? 0;
    if (n < this.limit) {
      this.active.set(host, n + 1);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const queue = this.waiting.get(host) ?? [];
      this.waiting.set(host, queue);
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = queue.indexOf(grant);
        if (i !== -1) queue.splice(i, 1);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted while waiting for a connection slot'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(grant);
    });
  }

  private release(host: string): void {
    const queue = this.waiting.get(host);
    const next = queue?.shift();
    if (next) {
      // The slot passes straight to the next waiter; the count stays the same.
      next();
      return;
    }
    if (queue && !queue.length) this.waiting.delete(host);
    const n = (this.active.get(host) ?? 1) - 1;
    if (n <= 0) this.active.delete(host);
    else this.active.set(host, n);
  }
}

/** Shared by every monitor in the process: two requests per host at a time, like a polite browser of old. */
export const sharedHostLimiter = new HostLimiter(2);

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized (check the username and password)',
  403: 'Forbidden',
  404: 'Not Found',
  410: 'Gone (the feed was removed)',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
