// Glue for a Node HTTP server: `POST /hooks/<id>` → handleWebhook → emit through the hook's monitor → reply.
// Matches the agent server's `routes` option: `(req, res, url) => Promise<boolean>` (true when handled).
import type http from 'node:http';
import { answerThenDrop } from '../../base/lingering-answer.js';
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
    answerThenDrop(req, res, answer);
    return true;
  };
}
