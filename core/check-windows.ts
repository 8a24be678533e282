// "Check only during": windows of local time in which a polling monitor (web pages, feeds) checks its source. One
// field and one gate for every such type, so they read, validate and behave alike.
import { z } from 'zod';
import { inMaintenance, maintenanceWindowSchema, type MaintenanceWindow } from './maintenance.js';
import type { CheckResult } from './monitor.js';

/** The config field (`checkWindows`): a list of windows, none meaning always. `what` names the source ("the page"). */
export function checkWindowsField(what: string) {
  return z
    .array(maintenanceWindowSchema)
    .default([])
    .meta({
      label: 'Check only during',
      help: `Windows of local time when ${what} is checked; none: always. E.g. weekdays in office hours: { "days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00" }. "Check now" checks anyway.`,
    });
}

/**
 * Before a scheduled check: null when it may go ahead (no windows, one is open, or the user pressed "Check now");
 * else what the health says and when the host should come back (the next opening, or a day later when none is ahead).
 */
export function outsideCheckWindows(windows: readonly MaintenanceWindow[], manual: boolean, now = Date.now()): { message: string; result: CheckResult } | null {
  if (manual || !windows.length || inMaintenance(windows, now)) return null;
  const opens = nextOpening(windows, now);
  return {
    message: opens === null ? 'outside its check windows, and none opens in the coming week' : `outside its check windows; next check ${localTime(opens)}`,
    // Without a window ahead, look again after a day (a one-off window may be edited in).
    result: { notBefore: opens ?? now + 86_400_000 },
  };
}

/** The first minute from `now` (within a week) at which one of the windows is open, or null. */
function nextOpening(windows: readonly MaintenanceWindow[], now: number): number | null {
  const first = Math.ceil(now / 60_000) * 60_000;
  for (let t = first; t < now + 8 * 86_400_000; t += 60_000) if (inMaintenance(windows, t)) return t;
  return null;
}

/** "at 08:00" today, "Mon 08:00" on another day: local time, as the windows are written. */
function localTime(ms: number): string {
  const d = new Date(ms);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay ? `at ${hm}` : `${d.toLocaleDateString('en-GB', { weekday: 'short' })} ${hm}`;
}
