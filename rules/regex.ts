/**
 * Regexes in rules come from users and are run against untrusted text, so they run on a linear-time engine
 * (core/user-regex.ts: RE2) and what it cannot run is refused when the rule is saved. We also extract a literal
 * substring every match must contain: the index uses it to skip rules whose literal is absent from the event,
 * without running the regex.
 */
import { userRegexProblem, MAX_USER_REGEX_LENGTH } from '../core/user-regex.js';

export const ALLOWED_REGEX_FLAGS = /^[imsu]*$/;

export function regexProblem(source: unknown, flags: string | undefined): string | null {
  if (typeof source !== 'string') return 'a regex is written as a string';
  if (source.length > MAX_USER_REGEX_LENGTH) return `regex is longer than ${MAX_USER_REGEX_LENGTH} characters`;
  if (flags !== undefined && (typeof flags !== 'string' || !ALLOWED_REGEX_FLAGS.test(flags) || new Set(flags).size !== flags.length)) {
    return `flags may only use i, m, s and u (each once), got ${JSON.stringify(flags)}`;
  }
  return userRegexProblem(source, flags ?? '');
}

/**
 * The longest run of plain characters that any match must contain, or '' when there is none we can be sure of.
 * Conservative on purpose: anything we do not fully understand ends the current run.
 */
export function requiredLiteral(source: string): string {
  // A top-level alternation means no single literal is required.
  if (hasTopLevelAlternation(source)) return '';
  let best = '';
  let run = '';
  const endRun = () => {
    if (run.length > best.length) best = run;
    run = '';
  };
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    let lit: string | null = null;
    let width = 1;
    if (ch === '\\') {
      const next = source[i + 1];
      if (next === undefined) break;
      // Escaped punctuation is the character itself; escaped letters and digits are classes or references.
      if (!/[A-Za-z0-9]/.test(next)) lit = next;
      width = 2;
    } else if (ch === '(' ) {
      // Skip the whole group: its content may be optional or alternated.
      endRun();
      i = skipGroup(source, i) - 1;
      i = skipQuantifier(source, i + 1) - 1;
      continue;
    } else if (ch === '[') {
      endRun();
      i = skipClass(source, i) - 1;
      i = skipQuantifier(source, i + 1) - 1;
      continue;
    } else if (!'.^$|)]{}*+?'.includes(ch)) {
      lit = ch;
    }
    const after = source[i + width];
    if (lit === null) {
      endRun();
      i += width - 1;
      i = skipQuantifier(source, i + 1) - 1;
      continue;
    }
    if (after === '*' || after === '?' || after === '{') {
      // The character may be absent (or repeated zero times): it cannot be part of a required run.
      endRun();
      i = skipQuantifier(source, i + width) - 1;
      continue;
    }
    run += lit;
    if (after === '+') {
      // Present at least once, but what follows may be another copy of it: end the run after it.
      endRun();
      i = skipQuantifier(source, i + width) - 1;
      continue;
    }
    i += width - 1;
  }
  endRun();
  return best;
}

function hasTopLevelAlternation(src: string): boolean {
  let depth = 0;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (ch === '\\') i++;
    else if (ch === '[') i = skipClass(src, i) - 1;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '|' && depth === 0) return true;
  }
  return false;
}

/** Index just past the group that opens at `start`. */
function skipGroup(src: string, start: number): number {
  let depth = 0;
  for (let i = start; i < src.length; i++) {
    const ch = src[i];
    if (ch === '\\') i++;
    else if (ch === '[') i = skipClass(src, i) - 1;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i + 1;
  }
  return src.length;
}

/** Index just past the character class that opens at `start`. */
function skipClass(src: string, start: number): number {
  for (let i = start + 1; i < src.length; i++) {
    const ch = src[i];
    if (ch === '\\') i++;
    else if (ch === ']' && i > start + 1) return i + 1;
    else if (ch === ']' && src[start + 1] !== '^') return i + 1;
  }
  return src.length;
}

/** Index just past a quantifier starting at `i` (or `i` if there is none). */
function skipQuantifier(src: string, i: number): number {
  const ch = src[i];
  if (ch === '*' || ch === '+' || ch === '?') i++;
  else if (ch === '{') {
    const close = src.indexOf('}', i);
    if (close > 0 && /^\{\d+(,\d*)?\}$/.test(src.slice(i, close + 1))) i = close + 1;
    else return i;
  } else return i;
  if (src[i] === '?') i++;
  return i;
}
