import { HttpClient } from '../../base/http-client.js';
import type { ActionExecutor } from '../outbox-dispatcher.js';
import { permanentError } from '../outbox-dispatcher.js';
import { IDEMPOTENCY_HEADER } from '../idempotency.js';

/**
 * `webhook {url, method, headers, body}`: retried with backoff through the outbox on network errors, 5xx and 429.
 * Each host is its own lane. Every request carries `Idempotency-Key` (the same on every attempt of the action), so
 * a receiver can drop a repeat after a crash or a lost answer. Requests go out on kept-alive connections of the
 * executor's own client (closed at shutdown), not through fetch: see base/http-client.ts for why.
 */
export function webhookExecutor(): ActionExecutor {
  const client = new HttpClient();
  return {
    retrySafe: true,
    maxAttempts: 6,
    // A slot carries at most one request per turn of the event loop, so slots × turns a second cap a lane: with 8,
    // a busy agent delivered slower than it took events in (deliveries queued for seconds on the peers bench).
    concurrency: 32,
    // The request's own timeout (timeoutMs, default 15 s) decides; this only frees a slot that something wedged.
    timeoutMs: 10 * 60_000,
    destination(action) {
      const a = (action as { webhook?: { url?: string } }).webhook;
      return `webhook:${new URL(String(a?.url)).host}`;
    },
    async run(action, ctx) {
      const a = (action as { webhook: { url: string; method?: string; headers?: Record<string, string>; body?: unknown; timeoutMs?: number } }).webhook;
      let url: URL;
      try {
        url = new URL(a.url);
      } catch {
        throw permanentError(`webhook url is not valid: ${a.url}`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw permanentError('webhook url must be http or https');
      const body = a.body === undefined ? undefined : typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(a.headers ?? {})) headers[k.toLowerCase()] = v;
      headers[IDEMPOTENCY_HEADER.toLowerCase()] ??= ctx.idempotencyKey;
      if (body !== undefined) headers['content-type'] ??= typeof a.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
      const res = await client.request(url.href, { method: a.method ?? 'POST', headers, body, timeoutMs: a.timeoutMs ?? 15_000, maxBytes: 1024 * 1024 }, ctx.signal);
      if (res.status >= 500 || res.status === 429) throw new Error(`webhook answered ${res.status}`);
      if (!res.ok) throw permanentError(`webhook answered ${res.status}`);
    },
    async close() {
      client.close();
    },
  };
}
