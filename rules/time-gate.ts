/** `context.time`: local "HH:MM" ranges (possibly wrapping midnight) and weekdays, in the user's or a given zone. */
import { DAYS } from './schema.js';

export interface LocalTime {
  minutes: number;
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAY: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

export function localTime(now: number, timeZone?: string): LocalTime {
  if (timeZone) {
    try {
      let f = formatters.get(timeZone);
      if (!f) {
        f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', weekday: 'short', hour: '2-digit', minute: '2-digit' });
        formatters.set(timeZone, f);
      }
      let h = 0, m = 0, d = 0;
      for (const p of f.formatToParts(now)) {
        if (p.type === 'hour') h = Number(p.value) % 24;
        else if (p.type === 'minute') m = Number(p.value);
        else if (p.type === 'weekday') d = WEEKDAY[p.value] ?? 0;
      }
      return { minutes: h * 60 + m, day: d };
    } catch {
      // An unknown zone name falls back to the machine's local time rather than closing every gate.
    }
  }
  const d = new Date(now);
  return { minutes: d.getHours() * 60 + d.getMinutes(), day: d.getDay() };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export type TimeGate = (t: LocalTime) => boolean;

export function compileTimeGate(time: { between?: [string, string]; days?: (typeof DAYS)[number][] }): TimeGate {
  const days = time.days ? new Set(time.days.map((d) => DAYS.indexOf(d))) : null;
  let inRange: (m: number) => boolean = () => true;
  if (time.between) {
    const [a, b] = time.between.map(toMinutes) as [number, number];
    // Start inclusive, end exclusive; a start after the end wraps midnight; equal bounds mean all day.
    if (a < b) inRange = (m) => m >= a && m < b;
    else if (a > b) inRange = (m) => m >= a || m < b;
  }
  return (t) => (!days || days.has(t.day)) && inRange(t.minutes);
}
