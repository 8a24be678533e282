// Heartbeat (a dead man's switch, like Healthchecks): a job — a backup, a cron script, a device — calls
// /hooks/heartbeat/<id> when it has run; when no call came within the period plus a grace time, `heartbeat.missed`
// (once), and `heartbeat.recovered` when it calls again. A call to …/fail reports a failed run at once.
import { z } from 'zod';
import type { MonitorDefinition } from '../../core/monitor.js';
import { isDuration, parseDuration } from '../../core/duration.js';
import { humanDuration } from '../../core/check-state.js';
import { heartbeatRegistry, heartbeatRoute } from './route.js';

export { heartbeatRoute, heartbeatRegistry, HeartbeatRegistry } from './route.js';

const duration = (def: string, label: string, help: string) =>
  z.string().default(def).refine(isDuration, { message: 'write a duration like "5m", "1h" or "1d"' }).meta({ label, help });

export const heartbeatConfigSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, "-" and "_" only').meta({ label: 'Heartbeat id', help: 'The last part of the address the job calls: /hooks/heartbeat/<id>.' }),
  secret: z.string().min(16, 'use at least 16 characters').optional().meta({ label: 'Secret', help: 'The job presents it as X-Panoptes-Secret, "Authorization: Bearer …" or ?secret=. Stored in the secret store.', secret: true }),
  every: duration('1h', 'Expected every', 'How often the job calls (its schedule).'),
  grace: duration('5m', 'Grace time', 'How late a call may be before it counts as missed.'),
});
export type HeartbeatConfig = z.infer<typeof heartbeatConfigSchema>;

interface BeatState {
  /** Last successful call (ISO), or when watching began. */
  last: string;
  status: 'waiting' | 'up' | 'missed' | 'failed';
}

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
    let unregister: (() => void) | null = null;
    let cancelTimer: (() => void) | null = null;
    let state: BeatState;
    // Calls are handled one at a time, so two quick pings cannot both announce a recovery.
    let queue: Promise<void> = Promise.resolve();

    const arm = () => {
      cancelTimer?.();
      const due = Date.parse(state.last) + periodMs;
      cancelTimer = ctx.setTimeout(() => void (queue = queue.then(missed, () => missed())), Math.max(0, due - Date.now()));
      if (state.status === 'up' || state.status === 'waiting') ctx.health.ok(`${state.status === 'waiting' ? 'waiting for the first call' : 'last call'} ${new Date(state.last).toISOString()}; due by ${new Date(due).toISOString()}`);
    };

    const missed = async () => {
      if (state.status === 'missed' || state.status === 'failed') return;
      const next: BeatState = { ...state, status: 'missed' };
      const late = Date.now() - Date.parse(state.last) - periodMs;
      await ctx.emit({ type: 'heartbeat.missed', title: `${ctx.name}: no heartbeat for ${humanDuration(Date.now() - Date.parse(state.last))} (expected every ${cfg.every})`, fields: { id: cfg.id, lastPing: state.last, lateByMs: Math.max(0, late), failed: false }, tags: ['heartbeat'] }, { state: { beat: next } });
      state = next;
      ctx.health.degraded(`missed: no call since ${state.last}`);
    };

    const ping = async (ok: boolean) => {
      const now = new Date().toISOString();
      if (!ok) {
        if (state.status !== 'failed') {
          const next: BeatState = { ...state, status: 'failed' };
          await ctx.emit({ type: 'heartbeat.missed', title: `${ctx.name}: the job reported a failure`, fields: { id: cfg.id, lastPing: state.last, lateByMs: 0, failed: true }, tags: ['heartbeat'] }, { state: { beat: next } });
          state = next;
        }
        ctx.health.degraded('the job reported a failure');
        return;
      }
      const next: BeatState = { last: now, status: 'up' };
      if (state.status === 'missed' || state.status === 'failed') {
        await ctx.emit({ type: 'heartbeat.recovered', title: `${ctx.name}: heartbeat back after ${humanDuration(Date.now() - Date.parse(state.last))}`, fields: { id: cfg.id, missedForMs: Date.now() - Date.parse(state.last) }, tags: ['heartbeat'] }, { state: { beat: next } });
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
        unregister = heartbeatRegistry.register({ id: cfg.id, secret, ping: (ok) => (queue = queue.then(() => ping(ok), () => ping(ok))) });
        if (state.status === 'missed' || state.status === 'failed') ctx.health.degraded(`missed: no call since ${state.last}`);
        else arm();
      },
      stop() {
        unregister?.();
        unregister = null;
        cancelTimer?.();
      },
    };
  },
};

export default definition;
