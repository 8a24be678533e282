/**
 * Regular expressions written by the user (rule conditions, the log monitor's pattern, the web monitor's ignore
 * list) run against text that comes from outside. V8's backtracking engine can take exponential time on patterns
 * as innocent-looking as `^(\w|\d)*$`, and no static check catches them all, so user patterns run on RE2 (through
 * the `re2` package): matching time is linear in the input, whatever the pattern. V8's own linear engine was
 * measured too: in Node 20 it refuses the `i` and `u` flags, the commonest ones in rules, so it cannot replace RE2.
 *
 * RE2 has no backreferences and no lookaround (they are what makes backtracking necessary): such patterns are refused
 * when they are entered, with a message that says which feature and why, never at match time.
 *
 * On top of linear time, one event's matching has a time budget (`matchBudget`): a 10 MB field against hundreds of
 * patterns is linear but still long. Once an event has used it up, the remaining user patterns do not match (they
 * fail closed) and the engine records which ones were skipped, so the rule shows an error instead of the process
 * stalling.
 */
import RE2 from 're2';

export const MAX_USER_REGEX_LENGTH = 1_000;

/** The time one event may spend in user patterns, and what went over it (reset by the engine per event). */
export const matchBudget = {
  limitMs: 250,
  usedMs: 0,
  /** Patterns that were not run (or ran past the budget) for the current event. */
  skipped: [] as UserRegex[],
};

/** Start a new event's budget. */
export function resetMatchBudget(): void {
  matchBudget.usedMs = 0;
  if (matchBudget.skipped.length) matchBudget.skipped = [];
}

/** A compiled user pattern: `test` and `exec` as on a RegExp, in linear time, within the event's budget. */
export class UserRegex {
  /** Who wrote it (a rule id), so a budget overrun can be reported where the user looks. */
  owner: string | undefined;
  private readonly re: RE2;

  constructor(readonly source: string, readonly flags: string) {
    this.re = compileRe2(source, flags);
  }

  test(s: string): boolean {
    const b = matchBudget;
    if (b.usedMs > b.limitMs) {
      b.skipped.push(this);
      return false;
    }
    const t0 = performance.now();
    const r = this.re.test(s);
    b.usedMs += performance.now() - t0;
    return r;
  }

  /** Unbudgeted: for monitors, which match one line, name or page at a time outside the rules engine. */
  matches(s: string): boolean {
    this.re.lastIndex = 0;
    return this.re.test(s);
  }

  /** Unbudgeted: for monitors, which match one line or page at a time outside the rules engine. */
  exec(s: string): RegExpExecArray | null {
    this.re.lastIndex = 0;
    return this.re.exec(s);
  }

  /**
   * Every match, left to right, at most `limit` (a monitor's regex extract). Unbudgeted like `exec`; the pattern
   * needs the `g` flag. An empty match moves on by one character so it cannot loop.
   */
  execAll(s: string, limit = 1_000): RegExpExecArray[] {
    if (!this.re.global) throw new Error('execAll needs a pattern compiled with the g flag');
    const out: RegExpExecArray[] = [];
    this.re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while (out.length < limit && (m = this.re.exec(s))) {
      out.push(m);
      if (m[0] === '') this.re.lastIndex++;
    }
    this.re.lastIndex = 0;
    return out;
  }

  replace(s: string, by: string): string {
    return this.re.replace(s, by);
  }
}

/**
 * The names of a pattern's named groups, read from its source: monitors that turn groups into fields refuse names
 * that would hide their own fields (running the pattern on "" would miss groups of a pattern that needs text).
 */
export function namedGroups(source: string): string[] {
  return [...source.matchAll(/\(\?P?<([A-Za-z_$][\w$]*)>/g)].map((m) => m[1]!);
}

/** Compile or throw an Error whose message is the one `userRegexProblem` gives. */
function compileRe2(source: string, flags: string): RE2 {
  try {
    return new RE2(source, flags);
  } catch (err) {
    throw new Error(explain(source, (err as Error).message));
  }
}

/** Why a pattern cannot be used, in words for the person who typed it; null when it can. */
export function userRegexProblem(source: unknown, flags = ''): string | null {
  if (typeof source !== 'string') return 'a regex is written as a string';
  if (source.length > MAX_USER_REGEX_LENGTH) return `regex is longer than ${MAX_USER_REGEX_LENGTH} characters`;
  try {
    new RE2(source, flags);
    return null;
  } catch (err) {
    return explain(source, (err as Error).message);
  }
}

/** RE2's terse messages ("missing ): (a") said the way a user thinks about the pattern. */
function explain(source: string, raw: string): string {
  const linear = 'patterns run on a linear-time engine (so no text can stall Panoptes), which does not support';
  const m = /^([^:]+):\s?(.*)$/s.exec(raw);
  const kind = m?.[1] ?? raw;
  const at = m?.[2] ?? '';
  switch (kind) {
    case 'missing )':
      return 'unterminated group: a "(" has no matching ")"';
    case 'unexpected )':
    case 'missing (':
      return 'unmatched ")": there is no "(" before it';
    case 'missing ]':
      return 'unterminated character class: a "[" has no matching "]"';
    case 'invalid character class range':
      return `invalid range in a character class: ${at}`;
    case 'invalid repetition size':
      return `invalid repetition ${at}: counts go up to 1000 and the first may not exceed the second`;
    case 'missing argument to repetition operator':
    case 'no argument for repetition operator':
      return `"${at}" has nothing to repeat`;
    case 'bad repetition operator':
      return `repetition "${at}" cannot follow another repetition`;
    case 'trailing \\':
      return 'the pattern ends with a lone "\\"';
    case 'invalid named capture group':
      return `invalid group name in ${at}`;
    case 'duplicate capture group name':
      return `two groups have the same name: ${at}`;
    case 'invalid perl operator':
      if (at.startsWith('(?<=') || at.startsWith('(?<!')) return `lookbehind ${at}…) is not supported: ${linear} looking around a match`;
      if (at.startsWith('(?=') || at.startsWith('(?!')) return `lookahead ${at}…) is not supported: ${linear} looking around a match`;
      return `"${at}" is not a supported group syntax`;
    case 'invalid escape sequence':
      if (/^\\[1-9]/.test(at) || at.startsWith('\\k')) return `backreference ${at} is not supported: ${linear} backreferences`;
      return `unknown escape ${at}`;
    default:
      return `invalid regex: ${raw}${source.length <= 60 ? ` (in ${source})` : ''}`;
  }
}
