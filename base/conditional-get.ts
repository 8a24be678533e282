/**
 * What polling monitors need on top of a bounded fetch (timeout, size cap, decompression, redirects — see
 * http.ts): conditional GET with ETag / Last-Modified, basic auth, a readable error for HTTP failures, and a
 * per-host concurrency limit so twenty feeds on one server do not hit it at once, and the address rule for redirects
 * (address-rule.ts: from a public address, never into this machine or the home network).
 *
 * The fetch itself is injected (normally the monitor context's `ctx.fetch`, which the host ties to the instance's
 * lifetime), so this module holds no sockets of its own.
 */
import { redirectRule } from './address-rule.js';
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
  // A watched page or feed on a public address may not lead the fetch into this machine or the home network.
  const mayRedirectTo = redirectRule(url);
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
    const refused = await mayRedirectTo(target);
    if (refused) throw new HttpError(`redirected to ${target.href} (${refused}); not followed`, res.status);
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
  const wait = slowDownWait(res.status, res.headers.get('retry-after'));
  if (wait !== null) {
    // Every monitor of this host waits, not only the one that was told.
    const host = new URL(current).host;
    const reason = `HTTP ${res.status}${STATUS_TEXT[res.status] ? ' ' + STATUS_TEXT[res.status] : ''}`;
    limiter.holdOff(host, Date.now() + wait, reason);
    throw new HostHeldError(host, Date.now() + wait, reason);
  }
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

export interface HostPolicy {
  /** Requests in flight to one host at a time. */
  limit: number;
  /** Least time between the starts of two requests to one host. */
  minGapMs: number;
  /** Whether this machine's own services (127.0.0.0/8, ::1, localhost) get the gap too; they need no politeness. */
  gapOnLoopback: boolean;
}

/** A server asked us to slow down (429, or 503 with Retry-After): no request goes to it before `retryAt`. */
export class HostHeldError extends Error {
  override name = 'HostHeldError';
  constructor(
    readonly host: string,
    /** Epoch ms; the monitor host schedules the next check for then (see core/monitor-host.ts). */
    readonly retryAt: number,
    readonly reason: string,
  ) {
    super(`${host} asked to wait (${reason}); not asked again before ${clockTime(retryAt)}`);
  }
}

/** A host that asked us to wait, until when (epoch ms) and why ("HTTP 429 Too Many Requests"). */
export interface HostHold {
  host: string;
  until: number;
  reason: string;
}

interface HostSlot {
  active: number;
  queue: Array<() => void>;
  lastStart: number;
  timer: NodeJS.Timeout | null;
  heldUntil: number;
  heldReason: string;
}

/**
 * Per host (`host:port`), across every monitor in the process: at most `limit` requests in flight, at least
 * `minGapMs` between request starts, and none at all while the host asked us to wait (`holdOff`, from a 429 or a
 * 503 with Retry-After) — a server that told one monitor to slow down is not asked by the next one a second later.
 * Waiters are served in order.
 */
export class HostLimiter {
  private readonly hosts = new Map<string, HostSlot>();
  private readonly holdListeners = new Set<() => void>();
  private policy: HostPolicy;

  constructor(limit: number, options: Partial<Omit<HostPolicy, 'limit'>> = {}) {
    if (!(limit >= 1)) throw new Error('host limit must be at least 1');
    this.policy = { limit, minGapMs: options.minGapMs ?? 0, gapOnLoopback: options.gapOnLoopback ?? false };
  }

  /** Change the policy (a setting, or a test that wants the gap on its loopback server). */
  configure(policy: Partial<HostPolicy>): void {
    if (policy.limit !== undefined && !(policy.limit >= 1)) throw new Error('host limit must be at least 1');
    this.policy = { ...this.policy, ...policy };
  }

  get limit(): number {
    return this.policy.limit;
  }

  inFlight(host: string): number {
    return this.hosts.get(host)?.active ?? 0;
  }

  /** No request to `host` before `untilMs`; a later hold wins over an earlier one. */
  holdOff(host: string, untilMs: number, reason: string): void {
    const slot = this.slot(host);
    if (untilMs > slot.heldUntil) {
      slot.heldUntil = untilMs;
      slot.heldReason = reason;
      for (const l of this.holdListeners) l();
    }
  }

  /** The holds still running, for keeping across a restart (see `onHold`). */
  holds(): HostHold[] {
    const now = Date.now();
    return [...this.hosts].filter(([, s]) => s.heldUntil > now).map(([host, s]) => ({ host, until: s.heldUntil, reason: s.heldReason }));
  }

  /**
   * Called after each new or longer hold. The engine keeps `holds()` in its data folder and gives them back with
   * `holdOff` when it starts again, so a restart does not ask a host early that asked us to wait (an hour, a day).
   */
  onHold(listener: () => void): () => void {
    this.holdListeners.add(listener);
    return () => void this.holdListeners.delete(listener);
  }

  /** Until when `host` asked us to wait, or null. */
  heldUntil(host: string): { until: number; reason: string } | null {
    const slot = this.hosts.get(host);
    return slot && slot.heldUntil > Date.now() ? { until: slot.heldUntil, reason: slot.heldReason } : null;
  }

  async run<T>(host: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.throwIfHeld(host);
    await this.acquire(host, signal);
    try {
      // The hold may have started while this request waited its turn.
      this.throwIfHeld(host);
      return await task();
    } finally {
      this.release(host);
    }
  }

  private throwIfHeld(host: string): void {
    const held = this.heldUntil(host);
    if (held) throw new HostHeldError(host, held.until, held.reason);
  }

  private slot(host: string): HostSlot {
    let slot = this.hosts.get(host);
    if (!slot) {
      slot = { active: 0, queue: [], lastStart: -Infinity, timer: null, heldUntil: 0, heldReason: '' };
      this.hosts.set(host, slot);
    }
    return slot;
  }

  private gapFor(host: string): number {
    return this.policy.gapOnLoopback || !isLoopbackHost(host) ? this.policy.minGapMs : 0;
  }

  private acquire(host: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const slot = this.slot(host);
    return new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = slot.queue.indexOf(grant);
        if (i !== -1) slot.queue.splice(i, 1);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted while waiting for a connection slot'));
        this.pump(host);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      slot.queue.push(grant);
      this.pump(host);
    });
  }

  /** Start as many waiters as the limit and the gap allow now; come back when the gap has passed. */
  private pump(host: string): void {
    const slot = this.hosts.get(host);
    if (!slot || slot.timer) return;
    while (slot.queue.length && slot.active < this.policy.limit) {
      const wait = slot.lastStart + this.gapFor(host) - Date.now();
      if (wait > 0) {
        slot.timer = setTimeout(() => {
          slot.timer = null;
          this.pump(host);
        }, wait);
        return;
      }
      slot.active++;
      slot.lastStart = Date.now();
      slot.queue.shift()!();
    }
    this.forgetIfIdle(host, slot);
  }

  private release(host: string): void {
    const slot = this.hosts.get(host);
    if (!slot) return;
    slot.active = Math.max(0, slot.active - 1);
    this.pump(host);
  }

  /** Keep the map small: a host with nothing in flight, nothing waiting, no gap left to keep and no hold is dropped. */
  private forgetIfIdle(host: string, slot: HostSlot): void {
    const now = Date.now();
    if (!slot.active && !slot.queue.length && !slot.timer && slot.heldUntil <= now && slot.lastStart + this.gapFor(host) <= now) this.hosts.delete(host);
  }
}

/**
 * Shared by every monitor in the process that visits other people's servers (web pages, feeds): two requests per
 * host at a time, like a polite browser of old, and a second between request starts to one host.
 */
export const sharedHostLimiter = new HostLimiter(2, { minGapMs: 1_000 });

/** A 429, or a 503 that says when to come back: how long the server asked us to wait, in ms from now, or null. */
export function slowDownWait(status: number, retryAfter: string | null, now = Date.now()): number | null {
  const asked = retryAfterMs(retryAfter, now);
  if (status === 429) return Math.min(asked ?? DEFAULT_429_WAIT_MS, MAX_HOLD_MS);
  if (status === 503 && asked !== null) return Math.min(asked, MAX_HOLD_MS);
  return null;
}

/** A 429 without Retry-After still means "slower": a minute. A Retry-After past a day is taken as a day. */
const DEFAULT_429_WAIT_MS = 60_000;
const MAX_HOLD_MS = 24 * 3600_000;

/**
 * Retry-After in ms from now: delta-seconds (fractions allowed, as Discord sends) or an HTTP date (RFC 9110
 * §10.2.3); null when absent or unreadable. The one reading of it: pages, feeds, channels and token endpoints.
 */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.max(0, t - now) : null;
}

function isLoopbackHost(host: string): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
  return name === 'localhost' || name.endsWith('.localhost') || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** "22:45 UTC" (or with the date when not today), for health messages. */
export function clockTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  const sameDay = iso.slice(0, 10) === new Date().toISOString().slice(0, 10);
  return `${sameDay ? '' : iso.slice(0, 10) + ' '}${iso.slice(11, 16)} UTC`;
}

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
