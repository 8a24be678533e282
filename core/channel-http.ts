// What an HTTP answer from a notification service means for the notification center: every channel that talks
// HTTP turns a refusal into a ChannelError the same way (401/403 permanent and blamed on the token field, 429
// retryable after the service's Retry-After, 5xx retryable), adding the service's own words where it has them.
import type { FetchResult } from './monitor.js';
import { ChannelError } from './notification-channel.js';
import { retryAfterMs } from '../base/conditional-get.js';

export interface HttpFailureOptions {
  /** The service's name in messages: "ntfy", "Telegram". */
  service: string;
  /** The config field a 401/403 is blamed on (the token, the webhook URL). */
  authField?: string | null;
  /** The config field a 404 is blamed on (the topic, the room, the webhook URL). */
  notFoundField?: string | null;
  /** The config field a 400 is blamed on, when the service does not say. */
  badRequestField?: string | null;
  /** The service's own explanation, taken from its error body. */
  detail?: string | null;
  /** A retry delay the service gave in its body (Discord's retry_after, Matrix's retry_after_ms). */
  retryAfterMs?: number | null;
}

/** The ChannelError for a non-2xx answer. */
export function httpFailure(res: Pick<FetchResult, 'status' | 'headers' | 'body'>, o: HttpFailureOptions): ChannelError {
  const detail = (o.detail ?? plainDetail(res.body)).trim();
  const said = detail ? `: ${detail}` : '';
  const s = res.status;
  if (s === 401 || s === 403) {
    const what = s === 401 ? 'did not accept the credentials' : 'refused the request';
    return new ChannelError(`${o.service} ${what} (${s})${said}`, { permanent: true, field: o.authField ?? null });
  }
  if (s === 429) {
    const after = o.retryAfterMs ?? retryAfterMs(res.headers.get('retry-after'));
    const when = after != null ? `; retry in ${Math.ceil(after / 1000)} s` : '';
    return new ChannelError(`${o.service} is rate limiting (429)${said}${when}`, { retryAfterMs: after });
  }
  if (s >= 500) {
    return new ChannelError(`${o.service} failed (${s})${said}`, { retryAfterMs: retryAfterMs(res.headers.get('retry-after')) });
  }
  if (s === 404) return new ChannelError(`${o.service} does not know this address (404)${said}`, { permanent: true, field: o.notFoundField ?? null });
  if (s === 408) return new ChannelError(`${o.service} timed out (408)${said}`);
  return new ChannelError(`${o.service} refused the notification (${s})${said}`, { permanent: true, field: o.badRequestField ?? null });
}

/** A short, single-line excerpt of a text body for a message (never a whole HTML error page). */
function plainDetail(body: Buffer): string {
  const text = body.subarray(0, 2000).toString('utf8');
  if (/^\s*</.test(text)) return '';
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/** Parse a JSON error body; null when it is not JSON. */
export function jsonBody<T = Record<string, unknown>>(res: Pick<FetchResult, 'body'>): T | null {
  try {
    return JSON.parse(res.body.toString('utf8')) as T;
  } catch {
    return null;
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]|::1)$/i;

/**
 * Tokens travel in these requests: plain http is refused except to this machine (a self-hosted service behind a
 * local proxy, the tests' servers). The message names the field holding the address.
 */
export function assertHttpsOrLoopback(address: string, field: string): URL {
  let u: URL;
  try {
    u = new URL(address);
  } catch {
    throw new ChannelError(`"${address}" is not a URL`, { permanent: true, field });
  }
  if (u.protocol === 'https:') return u;
  if (u.protocol === 'http:' && LOOPBACK.test(u.hostname)) return u;
  if (u.protocol === 'http:') throw new ChannelError('plain http is only allowed to 127.0.0.1/localhost; use https', { permanent: true, field });
  throw new ChannelError(`an address starting with https:// is needed, not ${u.protocol}`, { permanent: true, field });
}

export function isHttpsOrLoopback(address: string): boolean {
  try {
    assertHttpsOrLoopback(address, 'url');
    return true;
  } catch {
    return false;
  }
}

/** Join a base URL and a path without doubling or losing slashes (a server configured as "https://h/ntfy/"). */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '');
}
