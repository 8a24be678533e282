/**
 * ISO text of a time, as `Date#toISOString` writes it. Every firing needs one and Date formatting is slow, so the
 * text up to the seconds is kept (one per second of engine time, shared by every trace in that second) and the
 * milliseconds come from a table: one small string node per firing.
 */
const DAY = 86_400_000;
const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const MILLIS = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(3, '0')}Z`);
let isoDay = NaN;
let isoDayPrefix = '';
let isoSecond = NaN;
let isoSecondPrefix = '';
export const isoTime = (t: number): string => {
  if (Number.isInteger(t)) {
    const ms = t - isoDay;
    if (ms >= 0 && ms < DAY) {
      const second = Math.floor(t / 1000);
      if (second !== isoSecond) {
        isoSecond = second;
        isoSecondPrefix = `${isoDayPrefix}${PAD2[Math.floor(ms / 3_600_000)]}:${PAD2[Math.floor(ms / 60_000) % 60]}:${PAD2[Math.floor(ms / 1000) % 60]}.`;
      }
      return isoSecondPrefix + MILLIS[ms % 1000];
    }
  }
  const text = new Date(t).toISOString();
  // Only four-digit years have the fixed layout written above.
  if (text.length === 24 && Number.isInteger(t)) {
    isoDay = Math.floor(t / DAY) * DAY;
    isoDayPrefix = text.slice(0, 11);
    isoSecond = NaN;
  }
  return text;
};
