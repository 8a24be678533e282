import { boundedFetch } from '../../core/http.js';
import type { ActionExecutor } from '../outbox-dispatcher.js';
import { permanentError } from '../outbox-dispatcher.js';

/** `webhook {url, method, headers, body}`: retried with backoff through the outbox on network errors and 5xx. */
export function webhookExecutor(): ActionExecutor {
  return {
    retrySafe: true,
    maxAttempts: 6,
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
      const headers = new Headers(a.headers ?? {});
      if (body !== undefined && !headers.has('content-type')) headers.set('content-type', typeof a.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json');
      const res = await boundedFetch(url.href, { method: a.method ?? 'POST', headers, body, timeoutMs: a.timeoutMs ?? 15_000, maxBytes: 1024 * 1024 }, ctx.signal);
      if (res.status >= 500 || res.status === 429) throw new Error(`webhook answered ${res.status}`);
      if (!res.ok) throw permanentError(`webhook answered ${res.status}`);
    },
  };
}
