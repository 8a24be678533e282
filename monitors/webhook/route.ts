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
    const answer = () => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(JSON.stringify(status === 200 ? { ok: true } : { ok: false, error: message }));
    };
    if (status === 200 || req.readableEnded) return answer(), true;
    if (req.headers['content-length'] === undefined) {
      // An unannounced (chunked) body still coming: answer at once, so the sender can stop, and let the server read
      // and drop what it sends meanwhile (Node dumps an answered request's body) — closing on it would reset the
      // connection under the answer, which the sender then never reads. One that never stops is cut off by the
      // server's request time limit (base/request-limits.ts), as any slow request is.
      answer();
      return true;
    }
    // A small announced body is read to its end first, so the sender is still writing when the answer comes and sees
    // the status instead of a broken pipe; a large one is not read: the connection is closed after the answer.
    const declared = Number(req.headers['content-length']);
    if (!(Number.isFinite(declared) && declared <= DRAIN_MAX_BYTES && (await drainRest(req, DRAIN_MAX_BYTES)))) res.setHeader('Connection', 'close');
    answer();
    return true;
  };
}

const DRAIN_MAX_BYTES = 64 * 1024;
const DRAIN_MAX_MS = 2_000;

/** Read and drop what is left of a refused request's body, at most `limit` bytes for at most two seconds; true
 * when it ended. */
function drainRest(req: http.IncomingMessage, limit: number): Promise<boolean> {
  return new Promise((resolve) => {
    let dropped = 0;
    const done = (ended: boolean) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      resolve(ended);
    };
    const onData = (chunk: Buffer) => {
      dropped += chunk.byteLength;
      if (dropped > limit) done(false);
    };
    const onEnd = () => done(true);
    const onError = () => done(false);
    const timer = setTimeout(() => done(false), DRAIN_MAX_MS);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.resume();
  });
}
