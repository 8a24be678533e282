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
 * What one text field is indexed by: folded 3-grams, 4-grams and whole words, each a map from code to what is
 * filed under it. Each map has a bit filter in front (one bit per hashed code, 64k bits): most grams and words of
 * a text are filed under nothing, and testing a bit is far cheaper than a map lookup. A set bit can be a false
 * alarm (the map then says no); a clear bit is always right, so nothing is missed.
 */
export interface TextTables<T> {
  g3: Map<number, T>;
  g4: Map<number, T>;
  words: Map<number, T>;
  bits3: Int32Array;
  bits4: Int32Array;
  bitsW: Int32Array;
}

const FILTER_WORDS = 2_048; // 65,536 bits
const mix = (code: number) => Math.imul(code, 0x9e3779b1) >>> 16;

export function newTextTables<T>(): TextTables<T> {
  return {
    g3: new Map(),
    g4: new Map(),
    words: new Map(),
    bits3: new Int32Array(FILTER_WORDS),
    bits4: new Int32Array(FILTER_WORDS),
    bitsW: new Int32Array(FILTER_WORDS),
  };
}

const setBit = (bits: Int32Array, code: number) => {
  const x = mix(code);
  bits[x >>> 5]! |= 1 << (x & 31);
};

export function markGram(t: TextTables<unknown>, code: number, len: 3 | 4): void {
  setBit(len === 4 ? t.bits4 : t.bits3, code);
}

export function markWord(t: TextTables<unknown>, code: number): void {
  setBit(t.bitsW, code);
}

/**
 * One pass over `s` that calls `hit` for what is filed under each of its 4-grams, 3-grams and whole ASCII words
 * (maximal runs of [A-Za-z0-9_], exactly what `\b` delimits). Rolling codes and hashes: no allocation, and one
 * read of each character however many kinds of key the field has.
 */
export function scanText<T>(s: string, t: TextTables<T>, hit: (found: T) => void): void {
  const n = s.length;
  const use4 = t.g4.size > 0;
  const use3 = t.g3.size > 0;
  const useW = t.words.size > 0;
  const bits3 = t.bits3;
  const bits4 = t.bits4;
  const bitsW = t.bitsW;
  let h = 0;
  let w = 0;
  let inWord = false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const f = FOLD[c]!;
    h = ((h << 7) | f) & GRAM4_MASK;
    if (use4 && i >= 3) {
      const x = Math.imul(h, 0x9e3779b1) >>> 16;
      if ((bits4[x >>> 5]! & (1 << (x & 31))) !== 0) {
        const found = t.g4.get(h);
        if (found !== undefined) hit(found);
      }
    }
    if (use3 && i >= 2) {
      const g = h & GRAM3_MASK;
      const x = Math.imul(g, 0x9e3779b1) >>> 16;
      if ((bits3[x >>> 5]! & (1 << (x & 31))) !== 0) {
        const found = t.g3.get(g);
        if (found !== undefined) hit(found);
      }
    }
    if (useW) {
      if (c < 128 && WORD[c] === 1) {
        w = (Math.imul(w, 31) + f) | 0;
        inWord = true;
      } else if (inWord) {
        wordHit(w, t, hit);
        w = 0;
        inWord = false;
      }
    }
  }
  if (inWord) wordHit(w, t, hit);
}

function wordHit<T>(w: number, t: TextTables<T>, hit: (found: T) => void): void {
  const x = Math.imul(w, 0x9e3779b1) >>> 16;
  if ((t.bitsW[x >>> 5]! & (1 << (x & 31))) === 0) return;
  const found = t.words.get(w);
  if (found !== undefined) hit(found);
}
