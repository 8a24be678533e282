import { z } from 'zod';
import type { MonitorDefinition } from '../../core/monitor.js';
import { IdleMachine, type IdleTransition } from './machine.js';
import { desktopIdleProbe, type IdleProbe } from './probe.js';

const configSchema = z.object({
  thresholdSeconds: z
    .number()
    .int()
    .min(1)
    .max(86_400)
    .default(180)
    .meta({ label: 'Idle after (seconds)', help: 'No keyboard or mouse input for this long starts an idle period. Default 3 minutes.' }),
  pollSeconds: z
    .number()
    .min(0.2)
    .max(60)
    .default(5)
    .meta({ label: 'Check every (seconds)', help: 'How often the idle time is read. Reading it is cheap; a few seconds is plenty.' }),
  confirmActiveSeconds: z
    .number()
    .min(0)
    .max(60)
    .default(3)
    .meta({ label: 'Ignore stray input (seconds)', help: 'A single bump of the mouse does not end idle; input must continue within this long. 0 ends idle at the first input.' }),
});

export type IdleConfig = z.infer<typeof configSchema>;

/**
 * Tests and the desktop host can swap the probe (the desktop app relays Electron's powerMonitor: ./relay.ts); the
 * default reads the OS. The factory is told how often the monitor will read, so a relay can sample no faster.
 */
export function createIdleDefinition(probeFactory: (opts: { pollMs: number }) => IdleProbe = desktopIdleProbe): MonitorDefinition<IdleConfig> {
  return {
    type: 'idle',
    badge: 'IDLE',
    category: 'This machine',
    title: 'Idle / away',
    description:
      'Knows when you are away from the computer: no input for a while starts an idle period (back-dated to your last input), input ends it. A suspend counts as idle.',
    configSchema,
    minIntervalMs: 200,
    events: [
      {
        type: 'idle.start',
        description: 'No input for the threshold (or the computer went to sleep). The time is that of the last input.',
        fields: {
          idleSince: 'ISO time of the last input',
          thresholdSeconds: 'the configured threshold',
          reason: '"input" (no input for the threshold) or "suspend" (the computer slept)',
        },
      },
      {
        type: 'idle.end',
        description: 'Input again after an idle period. The time is that of the first input.',
        fields: {
          idleSince: 'ISO time the idle period started',
          idleSeconds: 'how long it lasted, in seconds',
          idleMs: 'how long it lasted, in milliseconds',
        },
      },
    ],
    create(ctx) {
      const cfg = configSchema.parse(ctx.config);
      const pollMs = Math.round(cfg.pollSeconds * 1000);
      let probe: IdleProbe | null = null;
      let machine: IdleMachine | null = null;
      return {
        start() {
          probe = probeFactory({ pollMs });
          machine = new IdleMachine({
            thresholdMs: cfg.thresholdSeconds * 1000,
            confirmActiveMs: Math.round(cfg.confirmActiveSeconds * 1000),
            suspendGapMs: Math.max(30_000, pollMs * 6),
          });
          const m = machine;
          const p = probe;
          // In a dry run there is nothing "new" to show for presence: report the current state once, as an event.
          if (ctx.dryRun) {
            const idleMs = p();
            ctx.every(60_000, async () => {
              await ctx.emit(
                idleMs >= cfg.thresholdSeconds * 1000
                  ? toEvent({ kind: 'start', at: Date.now() - idleMs, reason: 'input' }, cfg)
                  : { type: 'idle.end', title: `Active (last input ${Math.round(idleMs / 1000)} s ago)`, fields: { idleSeconds: 0, idleMs: 0, idleSince: new Date(Date.now() - idleMs).toISOString() } },
              );
            });
            return;
          }
          ctx.every(pollMs, async () => {
            for (const t of m.sample(Date.now(), p())) await ctx.emit(toEvent(t, cfg));
            ctx.health.ok(m.idle ? 'idle' : 'active');
          });
        },
        stop() {
          probe?.close?.();
          probe = null;
          machine = null;
        },
      };
    },
  };
}

function toEvent(t: IdleTransition, cfg: IdleConfig) {
  if (t.kind === 'start') {
    const since = new Date(t.at).toISOString();
    return {
      type: 'idle.start',
      ts: since,
      title: t.reason === 'suspend' ? 'Away (computer asleep)' : 'Away from the computer',
      body: '',
      fields: { idleSince: since, thresholdSeconds: cfg.thresholdSeconds, reason: t.reason },
    };
  }
  const idleSeconds = Math.round(t.durationMs / 1000);
  return {
    type: 'idle.end',
    ts: new Date(t.at).toISOString(),
    title: `Back after ${humanDuration(t.durationMs)}`,
    body: '',
    fields: { idleSince: new Date(t.idleSince).toISOString(), idleSeconds, idleMs: t.durationMs },
  };
}

export function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

export default createIdleDefinition();
