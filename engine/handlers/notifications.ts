import type { HandlersOf } from '../../core/rpc/server.js';
import type { HandlerHost } from './host.js';

export function notificationHandlers(engine: HandlerHost) {
  return {
    'notifications.recent': (p) => engine.store.notifications.recent(Math.min(500, p.limit ?? 50)),
  } satisfies HandlersOf<'notifications'>;
}
