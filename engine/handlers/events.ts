import type { HandlersOf } from '../../core/rpc/server.js';
import { stripSeq } from '../../core/store/index.js';
import { forList } from '../../core/event-cap.js';
import type { HandlerHost } from './host.js';

export function eventHandlers(engine: HandlerHost) {
  return {
    // Lists carry each event capped in size (a hundred events with megabyte fields were one 56 MB message); the
    // detail asks for the whole event with events.get.
    'events.list': (p) => {
      const page = engine.store.events.list(p);
      return { ...page, events: page.events.map(forList) };
    },
    'events.get': (p) => {
      const e = engine.store.events.get(p.id);
      return e ? stripSeq(e) : null;
    },
    'events.count': (p) => engine.store.events.countUpTo(p),
  } satisfies HandlersOf<'events'>;
}
