import { RequestError, type HandlersOf } from '../../core/rpc/server.js';
import { forwardingInfo, updateForwarding, ForwardingSettingsError } from '../forwarding/settings.js';
import type { HandlerHost } from './host.js';

export function forwardingHandlers(engine: HandlerHost) {
  return {
    'forwarding.get': () => forwardingInfo(engine, engine.forwarding),
    'forwarding.update': async (p) => {
      try {
        return await updateForwarding(engine, engine.forwarding, p);
      } catch (err) {
        if (err instanceof ForwardingSettingsError) throw new RequestError('invalid', `forwarding settings not saved: ${err.message}`, err.issues);
        throw err;
      }
    },
  } satisfies HandlersOf<'forwarding'>;
}
