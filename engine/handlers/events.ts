import type { HandlersOf } from '../../core/rpc/server.js';
import { stripSeq } from '../../core/store/index.js';
import type { HandlerHost } from './host.js';

export function eventHandlers(engine: HandlerHost) {
  return {
    'events.list': (p) => engine.store.events.list(p),
    'events.get': (p) => {
      const e = engine.store.events.get(p.id);
      return e ? stripSeq(e) : null;
    },
    'events.count': (p) => engine.store.events.countUpTo(p),
  } satisfies HandlersOf<'events'>;
}
