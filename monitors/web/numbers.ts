// A price or any number read from the watched text, as people write them: "1,299.00", "1.299,00", "€ 12,50",
// "$40", "-3". The filter chain picks where the number is (css:.price); this reads the first one there.

/** The first number in the lines, or null when there is none. */
export function firstNumber(lines: readonly string[]): number | null {
  for (const line of lines) {
    const n = parseNumber(line);
    if (n !== null) return n;
  }
  return null;
}

// Digits with separators (",", ".", a thin or normal space, an apostrophe as in 1'299); fixed pattern, linear.
const NUMBER = /([-−]\s?)?\d(?:[\d,.'\u202f\u00a0]|\s(?=\d{3}\b))*/;

export function parseNumber(text: string): number | null {
  const m = NUMBER.exec(text);
  if (!m) return null;
  const negative = Boolean(m[1]);
  let s = m[0].replace(/^[-−]\s?/, '').replace(/['\u202f\u00a0\s]/g, '').replace(/[.,]+$/, '');
  const lastDot = s.lastIndexOf('.');
  const lastComma = s.lastIndexOf(',');
  if (lastDot !== -1 && lastComma !== -1) {
    // Both: the later one is the decimal separator ("1,299.00", "1.299,00").
    const dec = lastDot > lastComma ? '.' : ',';
    s = s.replace(dec === '.' ? /,/g : /\./g, '').replace(',', '.');
  } else {
    const sep = lastDot !== -1 ? '.' : lastComma !== -1 ? ',' : null;
    if (sep) {
      const parts = s.split(sep);
      // One separator followed by exactly three digits, or several of them, groups thousands ("1,299", "1.000.000").
      const thousands = parts.length > 2 || (parts[1]!.length === 3 && parts[0] !== '0');
      s = thousands ? parts.join('') : parts.join('.');
    }
  }
  const n = Number(s);
  if (!Number.isFinite(n)) return null;
  return negative ? -n : n;
}

export interface NumberConditions {
  below?: number | undefined;
  above?: number | undefined;
  changedByPercent?: number | undefined;
}

/** Which of the user's conditions hold for `now` (after `before`), in words for the event; empty when none do. */
export function conditionsMet(now: number | null, before: number | null, c: NumberConditions): string[] {
  if (now === null) return [];
  const met: string[] = [];
  if (c.below !== undefined && now < c.below) met.push(`below ${c.below}`);
  if (c.above !== undefined && now > c.above) met.push(`above ${c.above}`);
  if (c.changedByPercent !== undefined && before !== null) {
    const pct = changePercent(before, now);
    if (pct !== null && Math.abs(pct) > c.changedByPercent) met.push(`changed by ${pct > 0 ? '+' : ''}${round(pct)} %`);
  }
  return met;
}

export function hasConditions(c: NumberConditions): boolean {
  return c.below !== undefined || c.above !== undefined || c.changedByPercent !== undefined;
}

/** Percent change from `before` to `now`; null when before is 0 (any change would be infinite). */
export function changePercent(before: number, now: number): number | null {
  if (before === 0) return now === 0 ? 0 : null;
  return ((now - before) / Math.abs(before)) * 100;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
