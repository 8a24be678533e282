import { RequestError, type Handlers, type HandlersOf } from '../../core/rpc/server.js';
import { settingsSchema } from '../../core/config/schema.js';
import type { HandlerHost } from './host.js';

export function settingsHandlers(engine: HandlerHost) {
  return {
    hello: () => ({ version: 1, agentId: engine.agentId, dataDir: engine.dataDir, paused: engine.paused, configProblem: engine.configProblem(), configRevision: engine.config.revision }),
    'settings.get': () => engine.config.current.settings,
    'settings.update': async (p) => {
      const current = engine.config.current.settings;
      const merged = settingsSchema.safeParse({ ...current, ...p, notifications: { ...current.notifications, ...p.notifications } });
      if (!merged.success) {
        const i = merged.error.issues[0]!;
        throw new RequestError('invalid', `${i.path.join('.')}: ${i.message}`);
      }
      await engine.config.update((d) => void (d.settings = merged.data));
      engine.store.traces.limitPerRule = merged.data.traceLimitPerRule;
      engine.notifications.changed();
      return engine.config.current.settings;
    },
  } satisfies HandlersOf<'settings'> & Pick<Handlers, 'hello'>;
}
