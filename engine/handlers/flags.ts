import { RequestError, type HandlersOf } from '../../core/rpc/server.js';
import type { HandlerHost } from './host.js';

export function flagHandlers(engine: HandlerHost) {
  return {
    'flags.list': () => engine.flags.list(),
    'flags.set': (p) => {
      try {
        return engine.flags.set(p.name, { for: p.for ?? null, by: 'user' });
      } catch (err) {
        throw new RequestError('invalid', (err as Error).message);
      }
    },
    'flags.clear': (p) => ({ cleared: engine.flags.clear(p.name, 'user') }),
  } satisfies HandlersOf<'flags'>;
}
