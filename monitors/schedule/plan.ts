// When should the next tick fire, and did we miss any? Pure functions over epoch milliseconds, so sleep,
// restarts and daylight-saving edges can be tested with fixed times instead of waiting.
import { Cron } from 'croner';

export interface Schedule {
  /** The first scheduled time strictly after `after`, or null if there is none. */
  next(after: number): number | null;
  describe: string;
}

export function cronSchedule(expression: string, timezone?: string): Schedule {
  // Croner computes the times; we do our own timing so that missed runs can be collapsed into one catch-up.
  const job = new Cron(expression, { paused: true, ...(timezone ? { timezone } : {}) });
  return {
    next: (after) => job.nextRun(new Date(after))?.getTime() ?? null,
    describe: `cron "${expression}"${timezone ? ` (${timezone})` : ''}`,
  };
}

export function intervalSchedule(everyMs: number, anchor: number, label: string): Schedule {
  return {
    next: (after) => anchor + (Math.floor((after - anchor) / everyMs) + 1) * everyMs,
    describe: `every ${label}`,
  };
}

export interface PlannedTick {
  scheduledFor: number;
  /** How many scheduled times passed without a tick; this one tick stands for all of them. */
  missed: number;
  catchUp: boolean;
}

/** Counting missed runs stops here; a per-second schedule after a week asleep need not be counted exactly. */
const MAX_COUNT = 100_000;

/**
 * The tick due at `now`, if any, given the last scheduled time that was handled. Several due times, or one due
 * more than `graceMs` ago (the machine slept, or Panoptes was not running), collapse into one catch-up tick.
 */
export function planTick(schedule: Schedule, lastHandled: number, now: number, graceMs: number): PlannedTick | null {
  const first = schedule.next(lastHandled);
  if (first === null || first > now) return null;
  let latest = first;
  let due = 1;
  for (;;) {
    const n = schedule.next(latest);
    if (n === null || n > now || due >= MAX_COUNT) break;
    latest = n;
    due++;
  }
  const catchUp = due > 1 || now - latest > graceMs;
  return { scheduledFor: latest, missed: catchUp ? due : 0, catchUp };
}
