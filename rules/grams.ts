/**
 * Character n-grams and whole words for the substring/regex prefilter. Text and literals are folded the same way
 * (ASCII case, plus the few non-ASCII characters that lower-case or case-fold to ASCII), and one rolling 32-bit code
 * over the folded characters (7 bits each, shifted in) serves every key kind: its low 21 bits are the last 3
 * characters, its low 28 bits the last 4, and all 32 bits the last 4 plus the low 4 bits of the one before: a
 * "5-gram", far rarer in text than a 4-gram, so a 5-letter literal brings up almost only texts that contain it.
 * Equal substrings always give equal codes; a collision only costs a wasted check, never a miss.
 */
const FOLD = new Uint8Array(65_536);
for (let c = 0; c < 65_536; c++) FOLD[c] = c & 0x7f;
for (let c = 65; c <= 90; c++) FOLD[c] = c + 32;
FOLD[0x130] = 105; // 'İ'.toLowerCase() starts with 'i'
FOLD[0x212a] = 107; // Kelvin sign folds to 'k'
FOLD[0x17f] = 115; // long s folds to 's' under /iu

/** Folded character, plus 0x80 for the characters `\b` treats as word characters ([A-Za-z0-9_], ASCII only). */
const CLASS = new Uint8Array(65_536);
for (let c = 0; c < 65_536; c++) {
  const word = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
  CLASS[c] = FOLD[c]! | (word ? 0x80 : 0);
}

export type GramLength = 3 | 4 | 5;
const MASK: Record<GramLength, number> = { 3: 0x1fffff, 4: 0xfffffff, 5: -1 };

/** The code of `len` folded characters of `s` from `start`, exactly as the scan computes it. */
export function gramCode(s: string, start: number, len: GramLength): number {
  let k = 0;
  for (let i = start; i < start + len; i++) k = (k << 7) | FOLD[s.charCodeAt(i)]!;
  return k & MASK[len];
}

/** Runs of the literal usable for grams: for case-insensitive matching only ASCII runs are safe. */
export function gramRuns(literal: string, caseInsensitive: boolean): string[] {
  if (!caseInsensitive) return [literal];
  return literal.split(/[^\x00-\x7f]+/).filter((r) => r.length >= 3);
}

/** A whole word's key: its last (up to) five folded characters as the rolling code has them, its length and first letter. */
function wordKeyOf(code: number, length: number, first: number): number {
  const last = length >= 5 ? code : code & ((1 << (7 * length)) - 1);
  return (Math.imul(last ^ Math.imul(length, 0x27d4eb2d), 0x9e3779b1) ^ first) | 0;
}

/** The key of a rule's whole word (ASCII word characters), the same function the scan applies to the text's words. */
export function wordCode(word: string): number {
  let k = 0;
  for (let i = 0; i < word.length; i++) k = (k << 7) | FOLD[word.charCodeAt(i)]!;
  return wordKeyOf(k, word.length, FOLD[word.charCodeAt(0)]!);
}

/**
 * What one text field is indexed by: folded 3-, 4- and 5-grams and whole words, each a map from code to what is
 * filed under it. Each map has a bit filter in front (one bit per hashed code, 64k bits): most grams and words of
 * a text are filed under nothing, and testing a bit is far cheaper than a map lookup. A set bit can be a false
 * alarm (the map then says no); a clear bit is always right, so nothing is missed.
 */
export interface TextTables<T> {
  grams: Record<GramLength, Map<number, T>>;
  /** Word key → the words filed under it (distinct words can share a key), each confirmed letter by letter. */
  words: Map<number, WordEntry<T>>;
  bits: Record<GramLength, Int32Array>;
  bitsW: Int32Array;
}

/**
 * What is filed under one whole word. The scan confirms the word itself before `found` is handed on (folded for a
 * case-insensitive word, as written otherwise), so a lookup that reaches `found` proves the text has that whole word.
 */
export interface WordEntry<T> {
  word: string;
  exact: boolean;
  found: T;
  next: WordEntry<T> | undefined;
}

/** What is filed under `word` (case-sensitive when `exact`), if anything. */
export function findWord<T>(t: TextTables<T>, word: string, exact: boolean): T | undefined {
  const text = exact ? word : foldWord(word);
  for (let x = t.words.get(wordCode(word)); x !== undefined; x = x.next) if (x.word === text && x.exact === exact) return x.found;
  return undefined;
}

/** What is filed under `word` (case-sensitive when `exact`), created with `make()` when it is new. */
export function fileWord<T>(t: TextTables<T>, word: string, exact: boolean, make: () => T): T {
  const found = findWord(t, word, exact);
  if (found !== undefined) return found;
  const code = wordCode(word);
  const e: WordEntry<T> = { word: exact ? word : foldWord(word), exact, found: make(), next: t.words.get(code) };
  t.words.set(code, e);
  setBit(t.bitsW, code);
  return e.found;
}

function eachWordEntry<T>(t: TextTables<T>, f: (e: WordEntry<T>) => void): void {
  for (const head of t.words.values()) for (let e: WordEntry<T> | undefined = head; e !== undefined; e = e.next) f(e);
}

/** Everything filed under a word, whatever its key. */
export function forEachWord<T>(t: TextTables<T>, f: (found: T) => void): void {
  eachWordEntry(t, (e) => f(e.found));
}

/** Replaces everything filed (grams and words) by `fn` of it. */
export function replaceFound<T>(t: TextTables<T>, fn: (found: T) => T): void {
  for (const m of [t.grams[3], t.grams[4], t.grams[5]]) for (const [k, f] of m) m.set(k, fn(f));
  eachWordEntry(t, (e) => (e.found = fn(e.found)));
}

const foldWord = (word: string) => String.fromCharCode(...Array.from(word, (c) => FOLD[c.charCodeAt(0)]!));

/** Whether `s` from `start` spells the entry's word (its length already checked). */
function sameWord(s: string, start: number, e: WordEntry<unknown>): boolean {
  const w = e.word;
  if (e.exact) {
    for (let j = 0; j < w.length; j++) if (s.charCodeAt(start + j) !== w.charCodeAt(j)) return false;
  } else {
    for (let j = 0; j < w.length; j++) if (FOLD[s.charCodeAt(start + j)] !== w.charCodeAt(j)) return false;
  }
  return true;
}

/** Hands on each entry filed under the word of `s` at [start, start + length) that spells it. */
function wordHits<T>(s: string, start: number, length: number, e: WordEntry<T> | undefined, hit: (found: T) => void): void {
  for (; e !== undefined; e = e.next) if (e.word.length === length && sameWord(s, start, e)) hit(e.found);
}

const FILTER_WORDS = 2_048; // 65,536 bits
const mix = (code: number) => Math.imul(code, 0x9e3779b1) >>> 16;

export function newTextTables<T>(): TextTables<T> {
  return {
    grams: { 3: new Map(), 4: new Map(), 5: new Map() },
    words: new Map(),
    bits: { 3: new Int32Array(FILTER_WORDS), 4: new Int32Array(FILTER_WORDS), 5: new Int32Array(FILTER_WORDS) },
    bitsW: new Int32Array(FILTER_WORDS),
  };
}

const setBit = (bits: Int32Array, code: number) => {
  const x = mix(code);
  bits[x >>> 5]! |= 1 << (x & 31);
};

export function markGram(t: TextTables<unknown>, code: number, len: GramLength): void {
  setBit(t.bits[len], code);
}

/**
 * Calls `hit` for what is filed under each of the grams and whole ASCII words of `s` (maximal runs of [A-Za-z0-9_],
 * exactly what `\b` delimits; a word only when the text spells it). One pass with one rolling code and no allocation
 * for words and 5-grams; a second, simpler pass only when some literal is as short as three or four characters.
 */
export function scanText<T>(s: string, t: TextTables<T>, hit: (found: T) => void): void {
  scanWordsAnd5(s, t, hit);
  if (t.grams[3].size > 0 || t.grams[4].size > 0) scanShortGrams(s, t, hit);
}

/**
 * The common case, words and literals of five or more characters, without a test per character for the kinds that
 * are absent: an empty kind's bit filter is all zeros, so it never leads to a lookup. (On a slow core these
 * per-character branches were a fifth of the scan.)
 */
function scanWordsAnd5<T>(s: string, t: TextTables<T>, hit: (found: T) => void): void {
  const n = s.length;
  const g5 = t.grams[5];
  const words = t.words;
  const bits5 = t.bits[5];
  const bitsW = t.bitsW;
  let k = 0;
  let wordStart = -1;
  let first = 0;
  for (let i = 0; i < n; i++) {
    const cls = CLASS[s.charCodeAt(i)]!;
    if (cls >= 0x80) {
      if (wordStart < 0) {
        wordStart = i;
        first = cls & 0x7f;
      }
    } else if (wordStart >= 0) {
      // `k` still ends with the word's last character.
      const w = wordKeyOf(k, i - wordStart, first);
      const x = mix(w);
      if ((bitsW[x >>> 5]! & (1 << (x & 31))) !== 0) wordHits(s, wordStart, i - wordStart, words.get(w), hit);
      wordStart = -1;
    }
    k = (k << 7) | (cls & 0x7f);
    const x = mix(k);
    if ((bits5[x >>> 5]! & (1 << (x & 31))) !== 0 && i >= 4) {
      const found = g5.get(k);
      if (found !== undefined) hit(found);
    }
  }
  if (wordStart >= 0) wordHits(s, wordStart, n - wordStart, words.get(wordKeyOf(k, n - wordStart, first)), hit);
}

/** Literals of three or four characters (rare: most literals are words or longer), in a pass of their own. */
function scanShortGrams<T>(s: string, t: TextTables<T>, hit: (found: T) => void): void {
  const g4 = t.grams[4];
  const g3 = t.grams[3];
  const bits4 = t.bits[4];
  const bits3 = t.bits[3];
  let k = 0;
  for (let i = 0; i < s.length; i++) {
    k = (k << 7) | FOLD[s.charCodeAt(i)]!;
    const k4 = k & 0xfffffff;
    const x4 = mix(k4);
    if ((bits4[x4 >>> 5]! & (1 << (x4 & 31))) !== 0 && i >= 3) {
      const found = g4.get(k4);
      if (found !== undefined) hit(found);
    }
    const k3 = k & 0x1fffff;
    const x3 = mix(k3);
    if ((bits3[x3 >>> 5]! & (1 << (x3 & 31))) !== 0 && i >= 2) {
      const found = g3.get(k3);
      if (found !== undefined) hit(found);
    }
  }
}
