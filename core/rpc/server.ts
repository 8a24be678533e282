import type { Channel } from './channel.js';
import type { Method, ProtocolError, Pushes, Topic, WireMessage } from '../protocol.js';

export type RequestHandler = (method: Method, params: unknown) => Promise<unknown>;

export class RequestError extends Error {
  constructor(readonly code: ProtocolError['code'], message: string, readonly issues?: ProtocolError['issues']) {
    super(message);
  }
}

export interface Connection {
  push<T extends Topic>(topic: T, data: Pushes[T]): void;
  close(): void;
}

/** Serve the protocol on one channel: answer requests in any order, and let the caller push to it. */
export function serveChannel(channel: Channel, handler: RequestHandler, onClose?: () => void): Connection {
  let open = true;
  channel.onClose(() => {
    open = false;
    onClose?.();
  });
  channel.onMessage((msg: WireMessage) => {
    if (!msg || typeof msg !== 'object' || msg.kind !== 'req' || typeof msg.id !== 'number') return;
    handler(msg.method, msg.params ?? {}).then(
      (result) => open && channel.send({ kind: 'res', id: msg.id, ok: true, result: result ?? null }),
      (err) => open && channel.send({ kind: 'res', id: msg.id, ok: false, error: toProtocolError(err) }),
    );
  });
  return {
    push: (topic, data) => {
      if (open) channel.send({ kind: 'push', topic, data });
    },
    close: () => channel.close(),
  };
}

export function toProtocolError(err: unknown): ProtocolError {
  if (err instanceof RequestError) return { code: err.code, message: err.message, ...(err.issues ? { issues: err.issues } : {}) };
  const e = err as { issues?: ProtocolError['issues']; message?: string };
  if (Array.isArray(e?.issues)) return { code: 'invalid', message: e.message ?? 'invalid', issues: e.issues };
  return { code: 'internal', message: e?.message ?? String(err) };
}
