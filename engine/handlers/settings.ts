import { RequestError, type Handlers, type HandlersOf } from '../../core/rpc/server.js';
import { settingsSchema } from '../../core/config/schema.js';
import { carryUnknownKeys } from '../../core/config/unknown-keys.js';
import type { HandlerHost } from './host.js';
import { jsonPath } from '../../core/json-path.js';
import type { ValidationIssue } from '../../core/protocol.js';

/** The zone of this machine's clock, which a rule's hours and days follow ("UTC" when the system names none). */
const machineTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

export function settingsHandlers(engine: HandlerHost) {
  return {
    hello: () => ({ version: 1, agentId: engine.agentId, dataDir: engine.dataDir, paused: engine.paused, configProblem: engine.configProblem(), configRevision: engine.config.revision, timeZone: machineTimeZone() }),
    'settings.get': () => engine.config.current.settings,
    'settings.update': async (p) => {
      const current = engine.config.current.settings;
      const merged = settingsSchema.safeParse({ ...current, ...p, notifications: { ...current.notifications, ...p.notifications } });
      // Every problem at once, each with the path of its field, so the form shows them where they are.
      const issues: ValidationIssue[] = merged.success ? [] : merged.error.issues.map((i) => ({ path: jsonPath(i.path), message: i.message }));
      if (!merged.success) throw new RequestError('invalid', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
      // Keys written by hand into the settings that Panoptes does not know stay (they were reported at load).
      await engine.config.update((d) => {
        carryUnknownKeys(d.settings, merged.data, (v) => settingsSchema.parse(v));
        d.settings = merged.data;
      });
      engine.store.traces.limitPerRule = merged.data.traceLimitPerRule;
      engine.notifications.changed();
      return engine.config.current.settings;
    },
  } satisfies HandlersOf<'settings'> & Pick<Handlers, 'hello'>;
}
