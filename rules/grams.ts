/**
 * Character n-grams for the regex/substring prefilter. Text and literals are folded the same way (ASCII case, plus
 * the few non-ASCII characters that lower-case or case-fold to ASCII), then 3 or 4 folded characters are packed
 * into a small integer. Equal substrings give equal codes; collisions only cost a wasted check, never a miss.
 */
const FOLD = new Uint8Array(65_536);
for (let c = 0; c < 65_536; c++) FOLD[c] = c & 0x7f;
for (let c = 65; c <= 90; c++) FOLD[c] = c + 32;
FOLD[0x130] = 105; // 'İ'.toLowerCase() starts with 'i'
FOLD[0x212a] = 107; // Kelvin sign folds to 'k'
FOLD[0x17f] = 115; // long s folds to 's' under /iu

export const GRAM4_MASK = 0xfffffff;
export const GRAM3_MASK = 0x1fffff;

export function gramCode(s: string, start: number, len: number): number {
  let h = 0;
  for (let i = start; i < start + len; i++) h = (h << 7) | FOLD[s.charCodeAt(i)]!;
  return h;
}

/**
 * Calls `visit(code, len)` for every 4-gram and 3-gram in `s` (only the lengths asked for).
 * Written as one rolling pass because it runs on every event's text for every indexed path.
 */
export function scanGrams<T>(s: string, g3: Map<number, T> | null, g4: Map<number, T> | null, add: (hit: T) => void): void {
  let h = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    h = ((h << 7) | FOLD[s.charCodeAt(i)]!) & GRAM4_MASK;
    if (g4 !== null && i >= 3) {
      const l = g4.get(h);
      if (l !== undefined) add(l);
    }
    if (g3 !== null && i >= 2) {
      const l = g3.get(h & GRAM3_MASK);
      if (l !== undefined) add(l);
    }
  }
}

/** Runs of the literal usable for grams: for case-insensitive matching only ASCII runs are safe. */
export function gramRuns(literal: string, caseInsensitive: boolean): string[] {
  if (!caseInsensitive) return [literal];
  return literal.split(/[^\x00-\x7f]+/).filter((r) => r.length >= 3);
}

const WORD = new Uint8Array(128);
for (let c = 48; c <= 57; c++) WORD[c] = 1;
for (let c = 65; c <= 90; c++) WORD[c] = 1;
for (let c = 97; c <= 122; c++) WORD[c] = 1;
WORD[95] = 1;

/** Hash of a whole word, ASCII case folded (the same function is used for the rule's word and the text's words). */
export function wordCode(word: string): number {
  let h = 0;
  for (let i = 0; i < word.length; i++) h = (Math.imul(h, 31) + FOLD[word.charCodeAt(i)]!) | 0;
  return h;
}

/**
 * Calls `add` for the rules filed under each ASCII word of `s` (maximal runs of [A-Za-z0-9_], which is exactly what
 * `\b` delimits). Hashes instead of substrings: no allocation per word.
 */
export function scanWords<T>(s: string, words: Map<number, T>, add: (hit: T) => void): void {
  let h = 0;
  let inWord = false;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 32;
    if (c < 128 && WORD[c] === 1) {
      h = (Math.imul(h, 31) + FOLD[c]!) | 0;
      inWord = true;
    } else if (inWord) {
      const l = words.get(h);
      if (l !== undefined) add(l);
      h = 0;
      inWord = false;
    }
  }
}
