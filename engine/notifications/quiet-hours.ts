import type { QuietHoursWindow } from '../../core/protocol.js';
import { localTime } from '../../rules/time-gate.js';

/**
 * Quiet hours are a weekly schedule in wall-clock time of one IANA time zone: "22:00–07:00 every day" means the
 * clock on the wall, so it stays 22:00 across a DST change and a window that crosses midnight belongs to the day it
 * started on (Friday 22:00–07:00 ends Saturday 07:00).
 */
export interface QuietHours {
  enabled: boolean;
  timeZone: string;
  windows: QuietHoursWindow[];
}

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

/** The window (if any) that holds instant `ms`. */
export function activeWindow(q: QuietHours, ms: number): QuietHoursWindow | null {
  if (!q.enabled || !q.windows.length) return null;
  // The same wall clock a rule's hours read (rules/time-gate.ts): weekday and minute of the day in that zone.
  const { day, minutes: minute } = localTime(ms, q.timeZone);
  const yesterday = (day + 6) % 7;
  for (const w of q.windows) {
    const start = minutes(w.start);
    const end = minutes(w.end);
    if (start < end) {
      if (w.days.includes(day) && minute >= start && minute < end) return w;
    } else {
      // Across midnight: the evening part on a listed day, the morning part on the day after one.
      if (w.days.includes(day) && minute >= start) return w;
      if (w.days.includes(yesterday) && minute < end) return w;
    }
  }
  return null;
}

export function isQuiet(q: QuietHours, ms: number): boolean {
  return activeWindow(q, ms) !== null;
}

const MINUTE = 60_000;
const STEP = 5 * MINUTE;
const HORIZON = 8 * 24 * 60 * MINUTE;

/**
 * The next instant after `ms` at which being quiet changes (a window starts or ends), or null when it never does.
 * Walks forward in 5-minute steps and narrows the change down to its minute: wall-clock boundaries fall on whole
 * minutes in every time zone, and a DST jump is handled by asking the wall clock rather than adding hours.
 */
export function nextChange(q: QuietHours, ms: number): number | null {
  if (!q.enabled || !q.windows.length) return null;
  const now = isQuiet(q, ms);
  const start = Math.floor(ms / MINUTE) * MINUTE;
  for (let t = start + STEP; t <= start + HORIZON; t += STEP) {
    if (isQuiet(q, t) !== now) {
      let lo = t - STEP; // same as now
      let hi = t; // changed
      while (hi - lo > MINUTE) {
        const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
        if (isQuiet(q, mid) === now) lo = mid;
        else hi = mid;
      }
      return Math.max(hi, ms + 1);
    }
  }
  return null;
}

/** "22:00–07:00" for a window, as the settings wrote it. */
export function describeWindow(w: QuietHoursWindow): string {
  return `${w.start}–${w.end}`;
}
