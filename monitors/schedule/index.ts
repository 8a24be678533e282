// Schedule: `schedule.tick` on a cron expression or a fixed interval, in local time (or a chosen time zone).
// After a sleep or a time when Panoptes was not running, at most one catch-up tick, marked as such.
import { z } from 'zod';
import { Cron } from 'croner';
import type { MonitorDefinition } from '../../core/monitor.js';
import { formatDuration, isDuration, parseDuration } from '../../core/duration.js';
import { cronSchedule, intervalSchedule, planTick, type Schedule } from './plan.js';

/**
 * Timers run on a monotonic clock that stops while the machine sleeps, so a long timer would fire late after a
 * resume. Waking at least this often and comparing with the wall clock notices a sleep within a minute.
 */
const MAX_SLEEP_MS = 60_000;
/** A tick this late is still an ordinary tick (a busy process); later than this it is a catch-up. */
const GRACE_MS = 90_000;
const MIN_EVERY_MS = 1_000;

export const scheduleConfigSchema = z
  .object({
    name: z.string().trim().min(1).max(200).meta({ label: 'Name', help: 'What the tick is for, e.g. "Morning briefing"; rules can match on it.' }),
    cron: z
      .string()
      .trim()
      .optional()
      .refine((c) => c === undefined || cronError(c) === null, { message: 'not a valid cron expression (e.g. "0 9 * * 1-5" for 9:00 on weekdays)' })
      .meta({ label: 'Cron expression', help: 'minute hour day-of-month month day-of-week, optionally seconds first; e.g. "*/15 * * * *" or "0 9 * * MON-FRI".' }),
    every: z
      .string()
      .optional()
      .refine((e) => e === undefined || (isDuration(e) && parseDuration(e) >= MIN_EVERY_MS), { message: 'write a duration of at least 1s, like "15m" or "2h"' })
      .meta({ label: 'Or every', help: 'A simple interval instead of a cron expression, e.g. "30m"; counted from when the schedule was created.' }),
    timezone: z
      .string()
      .optional()
      .refine((tz) => tz === undefined || validTimeZone(tz), { message: 'not a known time zone (use names like "Europe/Berlin")' })
      .meta({ label: 'Time zone', help: 'Empty: this computer\'s local time (following its daylight-saving changes).' }),
    catchUp: z.boolean().default(true).meta({ label: 'Catch up after sleep', help: 'If ticks were missed (asleep, switched off), send one tick marked "catch-up" on waking; off: skip them silently.' }),
  })
  .refine((c) => (c.cron === undefined) !== (c.every === undefined), { message: 'give either a cron expression or an interval, not both', path: ['cron'] });
export type ScheduleConfig = z.infer<typeof scheduleConfigSchema>;

const definition: MonitorDefinition<ScheduleConfig> = {
  type: 'schedule',
  badge: 'TIME',
  category: 'Time',
  title: 'Schedule',
  description: 'Ticks on a cron expression or a fixed interval, so rules can do things at set times.',
  configSchema: scheduleConfigSchema,
  events: [
    {
      type: 'schedule.tick',
      description: 'A scheduled time has come. After a sleep, one tick stands for all the missed ones.',
      fields: {
        name: 'The schedule\'s name',
        scheduledFor: 'The scheduled time this tick is for (ISO)',
        catchUp: 'true when this tick stands in for times that passed while asleep or not running',
        missed: 'How many scheduled times passed without a tick (0 for an on-time tick)',
        schedule: 'The schedule in words, e.g. cron "0 9 * * *" or every 15m',
        nextAt: 'The next scheduled time (ISO), or null',
      },
    },
  ],
  create(ctx) {
    const cfg = ctx.config;
    let schedule: Schedule;
    if (cfg.cron !== undefined) {
      schedule = cronSchedule(cfg.cron, cfg.timezone);
    } else {
      const everyMs = parseDuration(cfg.every!);
      let anchor = ctx.dryRun ? undefined : ctx.state.get<number>('anchor');
      if (anchor === undefined) {
        anchor = Date.now();
        if (!ctx.dryRun) ctx.state.set('anchor', anchor);
      }
      schedule = intervalSchedule(everyMs, anchor, formatDuration(everyMs));
    }
    let cancel: (() => void) | null = null;

    const tickEvent = (scheduledFor: number, catchUp: boolean, missed: number) => {
      const next = schedule.next(Math.max(scheduledFor, Date.now()));
      const when = new Date(scheduledFor).toISOString();
      return {
        type: 'schedule.tick',
        ts: new Date(scheduledFor),
        title: catchUp ? `${cfg.name} (catch-up for ${missed} missed)` : cfg.name,
        body: '',
        fields: { name: cfg.name, scheduledFor: when, catchUp, missed, schedule: schedule.describe, nextAt: next === null ? null : new Date(next).toISOString() },
        tags: ['schedule'],
      };
    };

    const wake = async () => {
      cancel = null;
      const now = Date.now();
      const last = ctx.state.get<number>('lastHandled') ?? now;
      if (ctx.state.get<number>('lastHandled') === undefined) ctx.state.set('lastHandled', now);
      const planned = planTick(schedule, last, now, GRACE_MS);
      let retryMs: number | null = null;
      if (planned) {
        try {
          if (!planned.catchUp || cfg.catchUp) await ctx.emit(tickEvent(planned.scheduledFor, planned.catchUp, planned.missed));
          ctx.state.set('lastHandled', planned.scheduledFor);
          ctx.health.ok();
        } catch (err) {
          // Not marked handled: the next wake retries it (as a catch-up if it is late by then).
          retryMs = 5_000;
          ctx.health.failing(err, retryMs);
        }
      }
      const next = schedule.next(ctx.state.get<number>('lastHandled') ?? now);
      if (next === null) {
        ctx.health.degraded('this schedule has no future times');
        return;
      }
      const delay = retryMs ?? Math.min(MAX_SLEEP_MS, Math.max(0, next - Date.now()));
      if (!ctx.signal.aborted) cancel = ctx.setTimeout(() => void wake(), delay);
    };

    return {
      async start() {
        if (ctx.dryRun) {
          // `monitor test`: the tick as it will look at its next time.
          const next = schedule.next(Date.now());
          if (next === null) throw new Error('this schedule has no future times');
          await ctx.emit(tickEvent(next, false, 0));
          return;
        }
        await wake();
      },
      stop() {
        cancel?.();
      },
    };
  },
};

export default definition;

function cronError(expression: string): string | null {
  try {
    new Cron(expression, { paused: true });
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
