// Heartbeat (a dead man's switch, like Healthchecks): a job — a backup, a cron script, a device — calls
// /hooks/heartbeat/<id> when it has run; when no call came within the period plus a grace time, `heartbeat.missed`
// (once), and `heartbeat.recovered` when it calls again. A call to …/fail reports a failed run at once.
import { z } from 'zod';
import type { MonitorDefinition } from '../../core/monitor.js';
import { isDuration, parseDuration } from '../../core/duration.js';
import { humanDuration, checkMaintenanceShape } from '../../core/check-state.js';
import { maintenanceReason, describeReason, registerCheckMaintenance, unregisterCheckMaintenance, type MaintenanceReason } from '../../core/maintenance.js';
import { heartbeatRegistry, heartbeatRoute } from './route.js';

export { heartbeatRoute, heartbeatRegistry, HeartbeatRegistry } from './route.js';

const duration = (def: string, label: string, help: string) =>
  z.string().default(def).refine(isDuration, { message: 'write a duration like "5m", "1h" or "1d"' }).meta({ label, help });

export const heartbeatConfigSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, "-" and "_" only').meta({ label: 'Heartbeat id', help: 'The last part of the address the job calls: /hooks/heartbeat/<id>.' }),
  secret: z.string().min(16, 'use at least 16 characters').optional().meta({ label: 'Secret', help: 'The job presents it as X-Panoptes-Secret, "Authorization: Bearer …" or ?secret=. Stored in the secret store.', secret: true }),
  every: duration('1h', 'Expected every', 'How often the job calls (its schedule).'),
  grace: duration('5m', 'Grace time', 'How late a call may be before it counts as missed.'),
  ...checkMaintenanceShape('a miss is held (and announced when the window closes, if no call came meanwhile)'),
});
export type HeartbeatConfig = z.infer<typeof heartbeatConfigSchema>;

interface BeatState {
  /** Last successful call (ISO), or when watching began. */
  last: string;
  status: 'waiting' | 'up' | 'missed' | 'failed';
  /** Missed or failed inside a maintenance window: not announced; it is if still so when the window closes. */
  held?: true;
}

/** While a miss is held, how often to look whether the maintenance is over (a window closing, the flag cleared). */
const HOLD_RECHECK_MS = 60_000;

const definition: MonitorDefinition<HeartbeatConfig> = {
  type: 'heartbeat',
  badge: 'BEAT',
  category: 'Checks',
  title: 'Heartbeat',
  description: 'A dead man\'s switch: a job calls /hooks/heartbeat/<id> every time it runs, and you hear when a call is missing (or the job reports a failure).',
  configSchema: heartbeatConfigSchema,
  events: [
    { type: 'heartbeat.missed', description: 'No call within the period plus grace (once), or the job called …/fail.', fields: { id: 'Heartbeat id', lastPing: 'Last successful call (ISO), or when watching began', lateByMs: 'How late, ms (0 for a reported failure)', failed: 'true when the job reported a failure' } },
    { type: 'heartbeat.recovered', description: 'A call came again after a miss.', fields: { id: 'Heartbeat id', missedForMs: 'How long it was missing, ms' } },
  ],
  routes: [{ prefix: '/hooks/heartbeat/', describe: 'GET or POST /hooks/heartbeat/<id> (…/fail for a failed run)', handle: heartbeatRoute() }],
  create(ctx) {
    const cfg = ctx.config;
    const periodMs = parseDuration(cfg.every) + parseDuration(cfg.grace);
    const tags = ['heartbeat', ...(cfg.tags ?? []).filter((t) => t !== 'heartbeat')];
    let unregister: (() => void) | null = null;
    let cancelTimer: (() => void) | null = null;
    let state: BeatState;
    // Calls and timers are handled one at a time, so two quick pings cannot both announce a recovery.
    let queue: Promise<void> = Promise.resolve();
    const serial = (fn: () => Promise<void> | void) => void (queue = queue.then(fn, fn));

    const arm = () => {
      cancelTimer?.();
      const due = Date.parse(state.last) + periodMs;
      cancelTimer = ctx.setTimeout(() => serial(() => report('missed')), Math.max(0, due - Date.now()));
      if (state.status === 'up' || state.status === 'waiting') ctx.health.ok(`${state.status === 'waiting' ? 'waiting for the first call' : 'last call'} ${new Date(state.last).toISOString()}; due by ${new Date(due).toISOString()}`);
    };

    const problem = (s: BeatState) => (s.status === 'failed' ? 'the job reported a failure' : `missed: no call since ${s.last}`);
    const missedEvent = (status: 'missed' | 'failed') =>
      status === 'failed'
        ? { type: 'heartbeat.missed', title: `${ctx.name}: the job reported a failure`, fields: { id: cfg.id, lastPing: state.last, lateByMs: 0, failed: true }, tags }
        : { type: 'heartbeat.missed', title: `${ctx.name}: no heartbeat for ${humanDuration(Date.now() - Date.parse(state.last))} (expected every ${cfg.every})`, fields: { id: cfg.id, lastPing: state.last, lateByMs: Math.max(0, Date.now() - Date.parse(state.last) - periodMs), failed: false }, tags };

    /** Held: look again every so often (at most once a period), and say why it is quiet. */
    const hold = (reason: MaintenanceReason) => {
      cancelTimer?.();
      cancelTimer = ctx.setTimeout(() => serial(recheck), Math.min(periodMs, HOLD_RECHECK_MS));
      ctx.health.degraded(`${problem(state)} (held: ${describeReason(reason)})`);
    };

    const announce = async (status: 'missed' | 'failed') => {
      const next: BeatState = { last: state.last, status };
      await ctx.emit(missedEvent(status), { state: { beat: next } });
      state = next;
      ctx.health.degraded(problem(state));
    };

    /** A miss or a reported failure: announced, or held while this heartbeat is in maintenance. */
    const report = async (status: 'missed' | 'failed') => {
      if (state.status === status || (state.status === 'failed' && !state.held)) return;
      const reason = maintenanceReason(ctx.id, tags, Date.now());
      if (!reason) return announce(status);
      state = { last: state.last, status, held: true };
      ctx.state.set('beat', state);
      hold(reason);
    };

    const recheck = async () => {
      if (!state.held) return;
      const reason = maintenanceReason(ctx.id, tags, Date.now());
      if (reason) return hold(reason);
      // Looked at again should the announcement fail (the store busy or closing); a no-op once it is made.
      cancelTimer = ctx.setTimeout(() => serial(recheck), Math.min(periodMs, HOLD_RECHECK_MS));
      await announce(state.status as 'missed' | 'failed');
    };

    const ping = async (ok: boolean) => {
      if (!ok) return report('failed');
      const next: BeatState = { last: new Date().toISOString(), status: 'up' };
      // Back after an announced miss is news; the end of a held one is not (nothing was said).
      if ((state.status === 'missed' || state.status === 'failed') && !state.held) {
        await ctx.emit({ type: 'heartbeat.recovered', title: `${ctx.name}: heartbeat back after ${humanDuration(Date.now() - Date.parse(state.last))}`, fields: { id: cfg.id, missedForMs: Date.now() - Date.parse(state.last) }, tags }, { state: { beat: next } });
      } else {
        ctx.state.set('beat', next);
      }
      state = next;
      arm();
    };

    return {
      start() {
        const secret = ctx.secrets.secret ?? cfg.secret;
        if (!secret) throw new Error('set a secret for this heartbeat; without one anybody could call it');
        if (ctx.dryRun) return; // nothing to show until a job calls
        state = ctx.state.get<BeatState>('beat') ?? { last: new Date().toISOString(), status: 'waiting' };
        if (!ctx.state.get('beat')) ctx.state.set('beat', state);
        registerCheckMaintenance(ctx.id, cfg.maintenance ?? [], tags);
        unregister = heartbeatRegistry.register({ id: cfg.id, secret, ping: (ok) => (queue = queue.then(() => ping(ok), () => ping(ok))) });
        if (state.held) serial(recheck);
        else if (state.status === 'missed' || state.status === 'failed') ctx.health.degraded(problem(state));
        else arm();
      },
      stop() {
        unregister?.();
        unregister = null;
        cancelTimer?.();
        if (!ctx.dryRun) unregisterCheckMaintenance(ctx.id);
      },
    };
  },
};

export default definition;
