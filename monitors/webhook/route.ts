// Glue for a Node HTTP server: `POST /hooks/<id>` → handleWebhook → emit through the hook's monitor → reply.
// Matches the agent server's `routes` option: `(req, res, url) => Promise<boolean>` (true when handled).
import type http from 'node:http';
import { handleWebhook } from './handler.js';
import { webhookRegistry, type WebhookRegistry } from './registry.js';

export function webhookRoute(registry: WebhookRegistry = webhookRegistry) {
  return async (req: http.IncomingMessage, res: http.ServerResponse, url?: URL): Promise<boolean> => {
    const pathname = url?.pathname ?? new URL(req.url ?? '/', 'http://x').pathname;
    if (!pathname.startsWith('/hooks/')) return false;
    const result = await handleWebhook({ method: req.method, url: req.url, headers: req.headers, body: req }, (id) => registry.get(id));
    let status: number = result.status;
    let message = result.message;
    if (result.event) {
      try {
        // A repeat (same Idempotency-Key) is answered like the first delivery: the sender did its part.
        if ((await registry.get(result.hookId!)!.emit(result.event, result.idempotencyKey)) === false) message = 'received before (same Idempotency-Key)';
      } catch {
        // Not stored: tell the sender to retry rather than pretend it arrived.
        status = 503;
        message = 'could not store the event; try again';
      }
    }
    // On refusals a small body is read to its end first, so the sender is still writing when the answer comes and
    // sees the status instead of a broken pipe; a large (or unannounced) one is not read: the connection is closed.
    if (status !== 200 && !req.readableEnded && !(await drainSmallBody(req))) res.setHeader('Connection', 'close');
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(status === 200 ? { ok: true } : { ok: false, error: message }));
    return true;
  };
}

const DRAIN_MAX_BYTES = 64 * 1024;
const DRAIN_MAX_MS = 2_000;

/** Read and drop what is left of a refused request's body when it announced a small one; true when it ended. */
function drainSmallBody(req: http.IncomingMessage): Promise<boolean> {
  const declared = Number(req.headers['content-length']);
  if (!Number.isFinite(declared) || declared > DRAIN_MAX_BYTES) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ended: boolean) => {
      clearTimeout(timer);
      req.off('end', onEnd);
      req.off('error', onError);
      resolve(ended);
    };
    const onEnd = () => done(true);
    const onError = () => done(false);
    const timer = setTimeout(() => done(false), DRAIN_MAX_MS);
    req.on('end', onEnd);
    req.on('error', onError);
    req.resume();
  });
}
