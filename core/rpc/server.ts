import type { Channel } from './channel.js';
import type { z } from 'zod';
import { jsonPath } from '../json-path.js';
import { ConfigConflictError } from '../config/config-store.js';
import { requests, type Method, type ParamsOf, type ProtocolError, type Pushes, type ResultOf, type Topic, type ValidationIssue, type WireMessage } from '../protocol.js';

/** One function per request, taking its checked params. */
export type Handlers = { [M in Method]: (p: ParamsOf<M>) => ResultOf<M> | Promise<ResultOf<M>> };
/** The handlers of the methods whose names start with `<prefix>.`, for a file that answers one subject. */
export type HandlersOf<Prefix extends string> = Pick<Handlers, Extract<Method, `${Prefix}.${string}`>>;

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

/**
 * Answer requests with these handlers. Every request's params are checked against the protocol's schema here,
 * once: a handler never sees a value of the wrong shape, and the caller learns which field was wrong.
 */
export function dispatch(handlers: Handlers): RequestHandler {
  return async (method, params) => {
    const spec = Object.hasOwn(requests, method) ? requests[method] : undefined;
    if (!spec) throw new RequestError('bad_request', `unknown method "${String(method)}"`);
    const parsed = (spec.params as z.ZodType).safeParse(params ?? {});
    if (!parsed.success) {
      const issues: ValidationIssue[] = parsed.error.issues.map((i) => ({ path: jsonPath(i.path), message: i.message }));
      throw new RequestError('bad_request', `${method}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
    }
    const handler = handlers[method] as (p: unknown) => unknown;
    return handler(parsed.data);
  };
}

export function toProtocolError(err: unknown): ProtocolError {
  if (err instanceof ConfigConflictError) return { code: 'conflict', message: err.message };
  if (err instanceof RequestError) return { code: err.code, message: err.message, ...(err.issues ? { issues: err.issues } : {}) };
  const e = err as { issues?: ProtocolError['issues']; message?: string };
  if (Array.isArray(e?.issues)) return { code: 'invalid', message: e.message ?? 'invalid', issues: e.issues };
  return { code: 'internal', message: e?.message ?? String(err) };
}
