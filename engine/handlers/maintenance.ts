import { RequestError, type HandlersOf } from '../../core/rpc/server.js';
import { checksInMaintenance, scheduledMaintenanceSchema, windowOpen, MAINTENANCE_FLAG, type ScheduledMaintenance } from '../../core/maintenance.js';
import { newId } from '../../core/ids.js';
import type { MaintenanceWindowInfo } from '../../core/protocol.js';
import type { HandlerHost } from './host.js';

/** Scheduled maintenance windows (kept in the settings) and what is in maintenance now. */
export function maintenanceHandlers(engine: HandlerHost) {
  const info = (w: ScheduledMaintenance, now: number): MaintenanceWindowInfo => ({ ...w, open: windowOpen(w, now) });
  return {
    'maintenance.status': () => {
      const now = Date.now();
      const flag = engine.flags.list().find((f) => f.name === MAINTENANCE_FLAG) ?? null;
      return {
        flag: flag !== null,
        flagExpiresAt: flag?.expiresAt ?? null,
        windows: engine.config.current.settings.maintenance.windows.map((w) => info(w, now)),
        checks: checksInMaintenance(now),
      };
    },
    'maintenance.save': async (p) => {
      const parsed = scheduledMaintenanceSchema.safeParse({ ...p.window, id: typeof p.window.id === 'string' && p.window.id ? p.window.id : `mw-${newId().toLowerCase()}` });
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.') || 'window', message: i.message }));
        throw new RequestError('invalid', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
      }
      const w = parsed.data;
      await engine.config.update((d) => {
        const list = d.settings.maintenance.windows;
        const at = list.findIndex((x) => x.id === w.id);
        if (at >= 0) list[at] = w;
        else list.push(w);
      });
      return info(w, Date.now());
    },
    'maintenance.remove': async (p) => {
      let removed = false;
      await engine.config.update((d) => {
        const list = d.settings.maintenance.windows;
        removed = list.some((w) => w.id === p.id);
        d.settings.maintenance.windows = list.filter((w) => w.id !== p.id);
      });
      return { removed };
    },
  } satisfies HandlersOf<'maintenance'>;
}
