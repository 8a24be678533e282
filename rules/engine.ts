/**
 * The rules engine: compiled rules behind an index, temporal state per (rule, key), one timer queue, traces.
 * Matching is synchronous and side-effect free apart from the engine's own temporal state; the caller applies flag
 * actions right after `process()` returns and sends the other actions through its outbox.
 */
import type { PanoptesEvent } from '../core/event.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { compileCondition, traceInto, whyFalse, type CompiledCondition, type ConditionResult } from './conditions.js';
import { compileGlob } from './glob.js';
import { getter, packPrograms, runPacked } from './condition-program.js';
import { UserRegex, matchBudget, resetMatchBudget } from '../core/user-regex.js';
import { MatcherIndex } from './matcher-index.js';
import { groupKey, type Getter } from './paths.js';
import { compileTimeGate, localTime, type LocalTime, type TimeGate } from './time-gate.js';
import { TimerHeap, type TimerEntry } from './timers.js';
import { renderActions } from './actions.js';
import type { Action, Match, Rule } from './schema.js';
import type { EventRef, Firing, FiringKind, RenderedAction, RuleEnv, RuleOutput, Trace, Verdict } from './types.js';

type PatternSpec =
  | { kind: 'none' }
  | { kind: 'count'; n: number; within: number }
  | { kind: 'absent'; within: number }
  | { kind: 'after'; within: number }
  | { kind: 'sequence'; steps: number; within: number };

interface Matcher {
  rule: CompiledRule;
  /** 'main' (the rule's own when/if), 'after', or the step number of a sequence. */
  role: 'main' | 'after' | number;
  sourceGlob?: string;
  typeGlob?: string;
  sourceTest: ((s: string) => boolean) | null;
  typeTest: ((s: string) => boolean) | null;
  cond: CompiledCondition | null;
  /** The trace's wording of the `when` tests, built once. */
  sourceText: string;
  typeText: string;
}

interface CompiledRule {
  order: number;
  id: string;
  name: string;
  rule: Rule;
  /** Changes when anything that shapes temporal state changes; state saved under another signature is dropped. */
  sig: string;
  main: Matcher;
  after: Matcher | null;
  steps: Matcher[];
  flagGates: [string, boolean][] | null;
  timeGate: TimeGate | null;
  pattern: PatternSpec;
  by: Getter | null;
  throttle: { per: number; by: Getter | null } | null;
  digest: { every: number } | null;
  hasStop: boolean;
  then: Action[];
  /** This rule's entries in the engine's `states` / `counters` maps (re-bound whenever those change). */
  st: RuleState;
  counters: RuleCounters;
  ring: TraceRing;
}

interface RuleState {
  sig: string;
  enabledAt: number | null;
  windows: Map<string, { times: number[]; events: EventRef[] }>;
  /** `seq`: the timer order of the deadline (see TimerHeap); only meaningful within one process. */
  absences: Map<string, Absence>;
  after: Map<string, { deadline: number; start: EventRef }>;
  seqs: Map<string, ({ start: number; events: EventRef[] } | null)[]>;
  throttle: Map<string, { last: number; suppressed: number }>;
  digest: { deadline: number; count: number; events: EventRef[] } | null;
}

interface Absence {
  deadline: number;
  last: EventRef | null;
  seq?: number;
}

interface RuleCounters {
  firings: number;
  suppressedByThrottle: number;
  evictions: number;
  gatedTimerFirings: number;
  renderErrors: number;
  /** Events on which this rule's patterns were skipped because the event used up its matching time budget. */
  matchErrors: number;
}

const MAX_REF_BODY = 1_000;
const MAX_DIGEST_EVENTS = 200;
const SWEEP_EVERY_MS = 60_000;

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
const iso = isoTime;

export function toRef(e: PanoptesEvent | EventRef): EventRef {
  return {
    id: e.id,
    ts: e.ts,
    source: e.source,
    type: e.type,
    title: e.title,
    body: e.body.length > MAX_REF_BODY ? e.body.slice(0, MAX_REF_BODY - 1) + '…' : e.body,
    url: e.url,
    fields: e.fields,
    tags: e.tags,
  };
}

/** The last `max` traces of a rule, overwritten in place (no shifting a list on every firing). */
class TraceRing {
  private items: EngineFiring[] = [];
  private next = 0;
  constructor(private readonly max: number) {}

  push(t: EngineFiring): void {
    if (this.max <= 0) return;
    if (this.items.length < this.max) this.items.push(t);
    else this.items[this.next] = t;
    this.next = (this.next + 1) % this.max;
  }

  /** Oldest first. */
  list(): EngineFiring[] {
    return this.items.length < this.max ? this.items.slice() : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }
}

/** What a firing's trace shows of its window: the span, the events' own times when they differ from `ts`, the count. */
interface WindowSpec {
  within?: number;
  times?: number[];
  count?: number;
}

const NOTHING: RuleOutput = Object.freeze({ firings: Object.freeze([]) as unknown as Firing[], stopped: false });
const STOPPED: RuleOutput = Object.freeze({ firings: Object.freeze([]) as unknown as Firing[], stopped: true });

/**
 * One firing. Everything it needs is captured when it fires (its events, key, window, the flags of that moment); the
 * actions are rendered and the trace written the first time either is read, once. The rule processor reads both for
 * every firing, in the same transaction; a firing nobody reads (a rule test that only counts, the benchmark) costs
 * no template rendering.
 */
class EngineFiring implements Firing {
  private atText: string | null = null;
  private ids: string[] | null = null;
  private rendered: { actions: RenderedAction[]; trace: Trace } | null = null;

  constructor(
    readonly ruleId: string,
    readonly ruleName: string,
    private readonly rule: CompiledRule,
    private readonly kind: FiringKind,
    private readonly atMs: number,
    private refs: (PanoptesEvent | EventRef)[],
    private trigger: PanoptesEvent | EventRef | null,
    private readonly key: string,
    private condEvent: PanoptesEvent | null,
    private readonly window: WindowSpec | undefined,
    private readonly flags: Record<string, boolean>,
    private readonly timeZone: string | undefined,
    private readonly suppressedSinceLast: number,
  ) {}

  get at(): string {
    return (this.atText ??= iso(this.atMs));
  }

  get eventIds(): string[] {
    if (this.ids === null) {
      const refs = this.refs;
      const ids: string[] = new Array(refs.length);
      for (let i = 0; i < refs.length; i++) ids[i] = refs[i]!.id;
      this.ids = ids;
    }
    return this.ids;
  }

  get actions(): RenderedAction[] {
    return (this.rendered ??= this.render()).actions;
  }

  get trace(): Trace {
    return (this.rendered ??= this.render()).trace;
  }

  toJSON(): unknown {
    return { ruleId: this.ruleId, ruleName: this.ruleName, at: this.at, eventIds: this.eventIds, actions: this.actions, trace: this.trace };
  }

  /**
   * Render now and let go of the events (a firing kept in a trace ring must not hold a large event's whole body:
   * refs are cut like every ref in state).
   */
  settle(): void {
    this.rendered ??= this.render();
    this.refs = this.refs.map(toRef);
    this.trigger = null;
    this.condEvent = null;
  }

  private render(): { actions: RenderedAction[]; trace: Trace } {
    const rule = this.rule;
    const refs = this.refs.map(toRef);
    const triggerRef = this.trigger === null ? null : this.trigger === this.refs[this.refs.length - 1] ? refs[refs.length - 1]! : toRef(this.trigger);
    const w = this.window;
    const count = this.kind === 'digest' ? (w?.count ?? refs.length) : refs.length;
    const errors: string[] = [];
    const scope = templateScope(rule, triggerRef, refs, count, this.flags, this.key, this.atMs);
    const actions = renderActions(rule.then, scope, errors);
    let window: Trace['window'] | undefined;
    if (w !== undefined) {
      const times = w.times;
      window = {
        ...(w.within !== undefined ? { within: formatDuration(w.within) } : {}),
        events: refs.map((x, j) => ({ id: x.id, ts: times ? iso(times[j]!) : x.ts })),
        ...(w.count !== undefined ? { count: w.count } : {}),
      };
    }
    // Key order as before (ruleId … conditions, window, actions, …): traces are stored and printed as JSON.
    const trace: Trace = {
      ruleId: rule.id,
      at: this.at,
      kind: this.kind,
      eventIds: this.eventIds,
      key: this.key,
      ...(this.condEvent !== null ? { conditions: traceMatcher(rule.main, this.condEvent) } : {}),
      ...(window !== undefined ? { window } : {}),
      actions,
    };
    if (rule.flagGates || rule.timeGate) trace.context = describeContext(rule, this.flags, this.atMs, this.timeZone);
    if (this.suppressedSinceLast >= 0) trace.throttle = { per: formatDuration(rule.throttle!.per), suppressedSinceLast: this.suppressedSinceLast };
    if (errors.length) {
      trace.renderErrors = errors;
      rule.counters.renderErrors += errors.length;
    }
    return { actions, trace };
  }
}

function describeContext(rule: CompiledRule, flags: Record<string, boolean>, at: number, timeZone: string | undefined): Trace['context'] {
  const ctx: NonNullable<Trace['context']> = {};
  if (rule.flagGates) ctx.flags = Object.fromEntries(rule.flagGates.map(([n, want]) => [n, { want, was: flags[n] === true }]));
  if (rule.timeGate) {
    const l = localTime(at, timeZone);
    ctx.time = { localMinutes: l.minutes, day: l.day };
  }
  return ctx;
}

const FAST_FIRE = 1;
const FAST_ABSENT = 2;

function fastKindOf(c: CompiledRule): number {
  const plain = !c.flagGates && !c.timeGate && !c.after && c.steps.length === 0;
  if (plain && c.pattern.kind === 'none' && !c.throttle && !c.digest && !c.hasStop) return FAST_FIRE;
  if (plain && c.pattern.kind === 'absent' && !c.by) return FAST_ABSENT;
  return 0;
}
const windowRecency = (w: { times: number[] }) => w.times[w.times.length - 1] ?? -Infinity;
const deadlineRecency = (a: { deadline: number }) => a.deadline;
const throttleRecency = (t: { last: number }) => t.last;
const runsRecency = (runs: ({ start: number } | null)[]) => Math.max(-Infinity, ...runs.map((r) => r?.start ?? -Infinity));

/** State keeps an event as it is when its body is short (no copy per re-armed absence); snapshots cut it to a ref. */
function refOf(e: PanoptesEvent): EventRef {
  return e.body.length <= MAX_REF_BODY ? e : toRef(e);
}
const ROLE_MAIN = -2;
const ROLE_AFTER = -1;

function resetSteps(hits: boolean[], steps: number): void {
  hits.length = steps;
  hits.fill(false);
}

function newState(sig: string): RuleState {
  return { sig, enabledAt: null, windows: new Map(), absences: new Map(), after: new Map(), seqs: new Map(), throttle: new Map(), digest: null };
}

export class RuleEngine {
  private rules: CompiledRule[] = [];
  private byId = new Map<string, CompiledRule>();
  /**
   * Per matcher id, what the per-event loop needs, in flat arrays: with thousands of rules the matcher and rule
   * objects are rarely in cache, so they are only touched once a matcher's test has passed. Four numbers per matcher,
   * side by side so a candidate costs one cache line: its rule, its role, where its `if` program starts in
   * `progCode` (-1 when there is nothing left to test: no `if`, or the index lookup proved it; the index has settled
   * `when` for every candidate), and its rule's fast kind.
   */
  private matcherInfo = new Int32Array(0);
  private progCode: Int32Array = new Int32Array(0);
  private progConstants: unknown[] = [];
  private index = new MatcherIndex([]);
  private states = new Map<string, RuleState>();
  private counters = new Map<string, RuleCounters>();
  /**
   * The two commonest kinds of rule take a path that reads only these per-rule arrays (never the rule's object, which
   * with thousands of rules is rarely in cache): a plain rule that fires on a matching event (FAST_FIRE), and an
   * absence without `by` re-armed by one (FAST_ABSENT). Everything else goes through `onEvent`.
   */
  private fastKind = new Uint8Array(0);
  private absenceWithin = new Float64Array(0);
  /** Per FAST_ABSENT rule, its one pending absence (the same object its state's `absences` holds under ''). */
  private singleAbsence: (Absence | undefined)[] = [];
  /** Firings on the fast path, not yet added to the rule's counters (see `flushCounts`). */
  private fastFirings = new Float64Array(0);
  private ruleIds: string[] = [];
  private ruleNames: string[] = [];
  private timers = new TimerHeap();
  private traceRing = new Map<string, TraceRing>();
  /** Firings of the current `process` / `advanceTo` call (null until the first one). */
  private firings: EngineFiring[] | null = null;
  /** The flags as this call saw them, copied at its first firing. */
  private flagSnapshot: Record<string, boolean> | null = null;
  private readonly maxTraces: number;
  private readonly maxKeys: number;
  private lastSweep = -Infinity;
  /** Rules whose state has not yet seen a clock reading (absence "since enabled" starts at the first one). */
  private unarmed: CompiledRule[] = [];
  private timerCompactAt = 50_000;
  private stepHits: boolean[] = [];
  /** Rules whose count/sequence windows or throttle keys expire and are pruned by the periodic sweep. */
  private sweepable: CompiledRule[] = [];
  /** The sweepable rules that hold any such keys (the others have nothing to prune). */
  private sweepActive = new Set<CompiledRule>();
  private localCache: { minute: number; tz: string | undefined; value: LocalTime } | null = null;

  constructor(opts: { maxTracesPerRule?: number; maxKeysPerRule?: number; matchBudgetMs?: number } = {}) {
    if (opts.matchBudgetMs !== undefined) matchBudget.limitMs = opts.matchBudgetMs;
    this.maxTraces = opts.maxTracesPerRule ?? 50;
    this.maxKeys = opts.maxKeysPerRule ?? 10_000;
  }

  /** Compile rules (disabled ones are skipped) and rebuild the index; temporal state of unchanged rules is kept. */
  setRules(rules: Rule[]): void {
    const compiled: CompiledRule[] = [];
    const matchers: Matcher[] = [];
    for (const rule of rules) {
      if (rule.enabled === false) continue;
      const c = compileRule(rule, compiled.length);
      compiled.push(c);
      matchers.push(c.main);
      if (c.after) matchers.push(c.after);
      matchers.push(...c.steps);
    }
    this.flushCounts();
    this.rules = compiled;
    this.byId = new Map(compiled.map((c) => [c.id, c]));
    this.fastKind = Uint8Array.from(compiled, fastKindOf);
    this.absenceWithin = Float64Array.from(compiled, (c) => (c.pattern.kind === 'absent' ? c.pattern.within : 0));
    this.fastFirings = new Float64Array(compiled.length);
    this.ruleIds = compiled.map((c) => c.id);
    this.ruleNames = compiled.map((c) => c.name);
    const packed = packPrograms(matchers.flatMap((m) => (m.cond?.program ? [m.cond.program] : [])));
    this.progCode = packed.code;
    this.progConstants = packed.constants;
    this.index = new MatcherIndex(matchers.map(matchOf));
    this.matcherInfo = new Int32Array(matchers.length * 4);
    matchers.forEach((m, id) => {
      this.matcherInfo[id * 4] = m.rule.order;
      this.matcherInfo[id * 4 + 1] = m.role === 'main' ? ROLE_MAIN : m.role === 'after' ? ROLE_AFTER : m.role;
      this.matcherInfo[id * 4 + 2] = m.cond?.program && this.index.proven[id] === 0 ? m.cond.program.base : -1;
      this.matcherInfo[id * 4 + 3] = this.fastKind[m.rule.order]!;
    });
    for (const [id, st] of this.states) {
      const c = this.byId.get(id);
      if (!c || c.sig !== st.sig) this.states.delete(id);
    }
    for (const c of compiled) {
      if (!this.states.has(c.id)) this.states.set(c.id, newState(c.sig));
      if (this.states.get(c.id)!.enabledAt === null) this.unarmed.push(c);
      if (!this.counters.has(c.id)) this.counters.set(c.id, { firings: 0, suppressedByThrottle: 0, evictions: 0, gatedTimerFirings: 0, renderErrors: 0, matchErrors: 0 });
    }
    this.sweepable = compiled.filter((c) => c.pattern.kind === 'count' || c.pattern.kind === 'sequence' || c.throttle);
    this.bindStates();
    this.rebuildTimers();
  }

  private syncAbsence(c: CompiledRule): void {
    if (this.fastKind[c.order] === FAST_ABSENT) this.singleAbsence[c.order] = c.st.absences.get('');
  }

  /** Add the fast path's firing counts to the rules' counters. */
  private flushCounts(): void {
    const n = this.fastFirings;
    for (let r = 0; r < n.length; r++) {
      if (n[r] === 0) continue;
      const c = this.rules[r];
      if (c) c.counters.firings += n[r]!;
      n[r] = 0;
    }
  }

  /** Point every compiled rule at its state and counters, so the per-event path needs no map lookups. */
  private bindStates(): void {
    for (const c of this.rules) {
      c.st = this.states.get(c.id)!;
      c.counters = this.counters.get(c.id)!;
      let ring = this.traceRing.get(c.id);
      if (!ring) this.traceRing.set(c.id, (ring = new TraceRing(this.maxTraces)));
      c.ring = ring;
    }
    this.singleAbsence = [];
    for (const c of this.rules) this.syncAbsence(c);
    this.sweepActive.clear();
    for (const c of this.sweepable) if (c.st.windows.size || c.st.seqs.size || c.st.throttle.size) this.sweepActive.add(c);
  }

  process(event: PanoptesEvent, env: RuleEnv): RuleOutput {
    const now = env.now;
    this.firings = null;
    this.flagSnapshot = null;
    let stopped = false;
    resetMatchBudget();
    this.housekeeping(now);
    this.fireDue(now, false, env);
    const count = this.index.candidates(event);
    const cands = this.index.found;
    const info = this.matcherInfo;
    const code = this.progCode;
    const constants = this.progConstants;
    const stepHits = this.stepHits;
    let i = 0;
    while (i < count) {
      // A rule's matchers have consecutive ids: main, after, steps.
      const first = cands[i]! * 4;
      const r = info[first]!;
      let mainHit = false;
      let afterHit = false;
      let stepHit = false;
      for (; i < count; i++) {
        const m = cands[i]! * 4;
        if (info[m] !== r) break;
        const test = info[m + 2]!;
        if (test >= 0 && !runPacked(code, constants, event, test)) continue;
        const role = info[m + 1]!;
        if (role === ROLE_MAIN) mainHit = true;
        else if (role === ROLE_AFTER) afterHit = true;
        else {
          if (!stepHit) resetSteps(stepHits, this.rules[r]!.steps.length);
          stepHits[role] = stepHit = true;
        }
      }
      if (!mainHit && !afterHit && !stepHit) continue;
      const fast = info[first + 3]!;
      if (fast === FAST_FIRE) {
        this.fire(r, event, now, env);
        continue;
      }
      if (fast === FAST_ABSENT) {
        // Re-armed in place: the queued timer entry moves on when it comes up (see onEvent).
        const a = this.singleAbsence[r];
        const deadline = now + this.absenceWithin[r]!;
        if (a !== undefined && deadline >= a.deadline) {
          a.deadline = deadline;
          a.last = refOf(event);
          a.seq = this.timers.nextSeq();
          continue;
        }
      }
      const rule = this.rules[r]!;
      if (!stepHit && rule.steps.length) resetSteps(stepHits, rule.steps.length);
      if (mainHit && !this.gatesOpen(rule, env, now)) mainHit = false;
      const fired = this.onEvent(rule, event, mainHit, afterHit, stepHits, env);
      if (fired && rule.hasStop) {
        stopped = true;
        break;
      }
    }
    this.fireDue(now, true, env);
    if (matchBudget.skipped.length) return this.overrun(event, this.output(stopped));
    return this.output(stopped);
  }

  /**
   * The event used up its matching budget: the patterns left unrun did not match (fail closed). Each rule they
   * belong to gets an error the caller records in its traces, so the user sees why it did not fire.
   */
  private overrun(event: PanoptesEvent, out: RuleOutput): RuleOutput {
    const owners = new Set<string>();
    for (const re of matchBudget.skipped) if (re.owner !== undefined) owners.add(re.owner);
    const spent = Math.round(matchBudget.limitMs);
    const errors = [...owners].map((ruleId) => {
      const c = this.byId.get(ruleId);
      if (c) c.counters.matchErrors++;
      return { ruleId, message: `not matched: event ${event.id} used up its ${spent} ms matching budget before this rule's patterns ran (fields of ${Math.round(JSON.stringify(event).length / 1024)} KB)` };
    });
    return { firings: out.firings, stopped: out.stopped, errors };
  }

  /** Fire every timer due at or before `now` (absences, after-absence deadlines, digests). */
  advanceTo(now: number, env: RuleEnv): RuleOutput {
    this.firings = null;
    this.flagSnapshot = null;
    this.housekeeping(now);
    this.fireDue(now, true, env);
    return this.output(false);
  }

  /** Most events fire nothing: they all share one empty, frozen answer instead of allocating their own. */
  private output(stopped: boolean): RuleOutput {
    const firings = this.firings;
    this.firings = null;
    this.flagSnapshot = null;
    if (firings === null) return stopped ? STOPPED : NOTHING;
    return { firings, stopped };
  }

  nextDeadline(): number | null {
    for (;;) {
      const t = this.timers.peek();
      if (!t) return null;
      if (this.isLive(t)) return t.at;
      this.timers.pop();
      this.requeueMoved(t);
    }
  }

  /** The most recent traces the engine produced (the caller keeps the durable copy). */
  traces(ruleId?: string): Trace[] {
    if (ruleId !== undefined) return this.traceRing.get(ruleId)?.list().map((f) => f.trace) ?? [];
    return [...this.traceRing.values()].flatMap((r) => r.list().map((f) => f.trace)).sort((a, b) => a.at.localeCompare(b.at));
  }

  stats(): Record<string, unknown> {
    this.flushCounts();
    const perRule: Record<string, unknown> = {};
    let keys = 0;
    for (const c of this.rules) {
      const st = this.states.get(c.id)!;
      const k = st.windows.size + st.absences.size + st.after.size + st.seqs.size + st.throttle.size;
      keys += k;
      perRule[c.id] = { ...this.counters.get(c.id), keys: k, digestPending: st.digest?.count ?? 0 };
    }
    return { rules: this.rules.length, index: this.index.stats, timers: this.timers.size, keys, perRule };
  }

  // ---- per-event temporal logic ------------------------------------------------------------------------------

  /** Returns true when the rule fired on this event (including throttled or digested firings). */
  private onEvent(rule: CompiledRule, e: PanoptesEvent, mainHit: boolean, afterHit: boolean, stepHits: boolean[], env: RuleEnv): boolean {
    // (stepHits is only meaningful for sequence rules, whose steps fill it.)
    const now = env.now;
    const st = rule.st;
    const p = rule.pattern;
    switch (p.kind) {
      case 'none': {
        if (!mainHit) return false;
        return this.emit(rule, st, 'event', now, [e], e, '', e, undefined, env);
      }
      case 'count': {
        if (!mainHit) return false;
        const key = groupKey(rule.by, e);
        let w = st.windows.get(key);
        if (!w) this.admit(rule, st.windows, key, (w = { times: [], events: [] }), windowRecency);
        this.sweepActive.add(rule);
        // Inclusive window: an event exactly `within` older than this one still counts.
        while (w.times.length && now - w.times[0]! > p.within) {
          w.times.shift();
          w.events.shift();
        }
        w.times.push(now);
        w.events.push(toRef(e));
        if (w.times.length < p.n) return false;
        st.windows.delete(key);
        return this.emit(rule, st, 'count', now, w.events, e, key, e, { within: p.within, times: w.times, count: w.events.length }, env);
      }
      case 'absent': {
        if (!mainHit) return false;
        const key = groupKey(rule.by, e);
        const deadline = now + p.within;
        const prev = st.absences.get(key);
        const seq = this.timers.nextSeq();
        // A busy key re-arms on every event, in place; its queued entry (due no later than the old deadline) moves
        // the timer on when it comes up, so the queue holds one entry per key instead of one per event.
        if (prev !== undefined && deadline >= prev.deadline) {
          prev.deadline = deadline;
          prev.last = refOf(e);
          prev.seq = seq;
          return false;
        }
        this.admit(rule, st.absences, key, { deadline, last: refOf(e), seq }, deadlineRecency);
        this.syncAbsence(rule);
        this.timers.push({ at: deadline, ruleId: rule.id, kind: 'absent', key, seq });
        return false;
      }
      case 'after': {
        const key = groupKey(rule.by, e);
        if (mainHit) st.after.delete(key);
        if (afterHit && !st.after.has(key)) {
          const deadline = now + p.within;
          this.admit(rule, st.after, key, { deadline, start: toRef(e) }, deadlineRecency);
          this.timers.push({ at: deadline, ruleId: rule.id, kind: 'after', key });
        }
        return false;
      }
      case 'sequence': {
        const key = groupKey(rule.by, e);
        let runs = st.seqs.get(key);
        if (runs) for (let j = 0; j < runs.length; j++) if (runs[j] && now - runs[j]!.start > p.within) runs[j] = null;
        const complete = runs?.[p.steps - 1];
        if (mainHit && complete) {
          st.seqs.delete(key);
          const events = [...complete.events, toRef(e)];
          return this.emit(rule, st, 'sequence', now, events, e, key, e, { within: p.within }, env);
        }
        if (!stepHits.includes(true)) return false;
        if (!runs) runs = new Array(p.steps).fill(null);
        // Latest-start partial runs, updated from the last step down so one event advances one step only.
        for (let j = p.steps - 1; j >= 0; j--) {
          if (!stepHits[j]) continue;
          const prev = j === 0 ? { start: now, events: [] as EventRef[] } : runs[j - 1];
          if (!prev) continue;
          const cur = runs[j];
          if (!cur || prev.start >= cur.start) runs[j] = { start: prev.start, events: [...prev.events, toRef(e)] };
        }
        if (!st.seqs.has(key)) this.admit(rule, st.seqs, key, runs, runsRecency);
        this.sweepActive.add(rule);
        return false;
      }
    }
  }

  /**
   * Throttle, then digest or record: the single path every firing takes. `refs` are the firing's events, `trigger`
   * the event the throttle key is read from and templates see, `condEvent` the event whose conditions the trace
   * shows. Rendering the actions and writing the trace wait until the caller reads them (see EngineFiring): matching
   * stays cheap, and what is rendered is the same as if it had been rendered here.
   */
  /** A plain rule's firing on `e` (FAST_FIRE): the same record `emit` makes, without reading the rule's object. */
  private fire(r: number, e: PanoptesEvent, now: number, env: RuleEnv): void {
    const flags = (this.flagSnapshot ??= { ...env.flags });
    // The id and name come from arrays of their own: reading the rule's object here would cost a cache miss.
    const firing = new EngineFiring(this.ruleIds[r]!, this.ruleNames[r]!, this.rules[r]!, 'event', now, [e], e, '', e, undefined, flags, env.timeZone, -1);
    this.fastFirings[r]! += 1;
    this.keep(firing, this.rules[r]!, e);
  }

  /**
   * A firing joins this call's answer and, when traces are kept in memory, its rule's ring (rendered at once when its
   * event is large, so the ring never holds a whole body). The rule's object is only read in the second case.
   */
  private keep(firing: EngineFiring, rule: CompiledRule, condEvent: PanoptesEvent | null): void {
    if (this.maxTraces > 0) {
      if (condEvent !== null && condEvent.body.length > MAX_REF_BODY) firing.settle();
      rule.ring.push(firing);
    }
    (this.firings ??= []).push(firing);
  }

  private emit(
    rule: CompiledRule,
    st: RuleState,
    kind: FiringKind,
    at: number,
    refs: (PanoptesEvent | EventRef)[],
    trigger: PanoptesEvent | EventRef | null,
    key: string,
    condEvent: PanoptesEvent | null,
    window: WindowSpec | undefined,
    env: RuleEnv,
  ): boolean {
    const counters = rule.counters;
    let suppressedSinceLast = -1;
    if (rule.throttle !== null && kind !== 'digest') {
      const tkey = rule.throttle.by && trigger ? groupKey(rule.throttle.by, trigger as PanoptesEvent) : '';
      const t = st.throttle.get(tkey);
      if (t && at - t.last < rule.throttle.per) {
        t.suppressed++;
        counters.suppressedByThrottle++;
        return true;
      }
      suppressedSinceLast = t?.suppressed ?? 0;
      if (t) {
        t.last = at;
        t.suppressed = 0;
      } else this.admit(rule, st.throttle, tkey, { last: at, suppressed: 0 }, throttleRecency);
      this.sweepActive.add(rule);
    }
    if (rule.digest !== null && kind !== 'digest') {
      let d = st.digest;
      if (!d) {
        d = st.digest = { deadline: at + rule.digest.every, count: 0, events: [] };
        this.timers.push({ at: d.deadline, ruleId: rule.id, kind: 'digest', key: '' });
      }
      d.count++;
      for (const ev of refs) d.events.push(toRef(ev));
      if (d.events.length > MAX_DIGEST_EVENTS) d.events.splice(0, d.events.length - MAX_DIGEST_EVENTS);
      return true;
    }
    // Templates and traces see the flags as they were at this event, however late they are rendered.
    const flags = (this.flagSnapshot ??= { ...env.flags });
    const firing = new EngineFiring(rule.id, rule.name, rule, kind, at, refs, trigger, key, condEvent, window, flags, env.timeZone, suppressedSinceLast);
    counters.firings++;
    this.keep(firing, rule, condEvent);
    return true;
  }

  // ---- timers --------------------------------------------------------------------------------------------------

  private fireDue(now: number, inclusive: boolean, env: RuleEnv): void {
    for (;;) {
      const t = this.timers.peek();
      if (!t || t.at > now || (!inclusive && t.at === now)) return;
      this.timers.pop();
      if (this.isLive(t)) this.fireTimer(t, env);
      else this.requeueMoved(t);
    }
  }

  private isLive(t: TimerEntry): boolean {
    const st = this.byId.get(t.ruleId)?.st;
    if (!st) return false;
    if (t.kind === 'absent') return st.absences.get(t.key)?.deadline === t.at;
    if (t.kind === 'after') return st.after.get(t.key)?.deadline === t.at;
    return st.digest?.deadline === t.at;
  }

  /** An absence re-armed since `t` was queued is queued again at its new deadline, in the order it was set. */
  private requeueMoved(t: TimerEntry): void {
    if (t.kind !== 'absent') return;
    const a = this.byId.get(t.ruleId)?.st.absences.get(t.key);
    if (a !== undefined && a.deadline > t.at) this.timers.push({ at: a.deadline, ruleId: t.ruleId, kind: 'absent', key: t.key, seq: a.seq });
  }

  private fireTimer(t: TimerEntry, env: RuleEnv): void {
    const rule = this.byId.get(t.ruleId)!;
    const st = this.states.get(t.ruleId)!;
    if (t.kind === 'digest') {
      const d = st.digest!;
      st.digest = null;
      const last = d.events[d.events.length - 1] ?? null;
      this.emit(rule, st, 'digest', t.at, d.events, last, '', null, { count: d.count }, env);
      return;
    }
    const p = rule.pattern as { within: number };
    let trigger: EventRef | null;
    if (t.kind === 'absent') {
      trigger = st.absences.get(t.key)!.last;
      st.absences.delete(t.key);
      this.syncAbsence(rule);
    } else {
      trigger = st.after.get(t.key)!.start;
      st.after.delete(t.key);
    }
    // Silence is judged when the deadline passes, so the context gates are checked then too.
    if (!this.gatesOpen(rule, env, t.at)) {
      rule.counters.gatedTimerFirings++;
      return;
    }
    this.emit(rule, st, t.kind === 'absent' ? 'absence' : 'after-absence', t.at, trigger ? [trigger] : [], trigger, t.key, null, { within: p.within }, env);
  }

  /** Queue every pending deadline afresh; `fresh` (after restore) when the saved timer order came from another process. */
  private rebuildTimers(fresh = false): void {
    this.timers.clear();
    for (const [id, st] of this.states) {
      for (const [key, a] of st.absences) {
        if (fresh || a.seq === undefined) a.seq = this.timers.nextSeq();
        this.timers.push({ at: a.deadline, ruleId: id, kind: 'absent', key, seq: a.seq });
      }
      for (const [key, a] of st.after) this.timers.push({ at: a.deadline, ruleId: id, kind: 'after', key });
      if (st.digest) this.timers.push({ at: st.digest.deadline, ruleId: id, kind: 'digest', key: '' });
    }
  }

  /** Arms "absent since the rule was enabled" once the engine knows the time, and prunes expired state now and then. */
  private housekeeping(now: number): void {
    if (this.unarmed.length) this.armPending(now);
    if (this.timers.size > this.timerCompactAt) {
      // Re-armed deadlines leave stale heap entries behind; rebuild from the live state before they pile up.
      this.rebuildTimers();
      this.timerCompactAt = Math.max(50_000, this.timers.size * 2);
    }
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const c of this.sweepActive) {
      const st = c.st;
      const p = c.pattern;
      if (p.kind === 'count') {
        for (const [k, w] of st.windows) if (!w.times.length || now - w.times[w.times.length - 1]! > p.within) st.windows.delete(k);
      } else if (p.kind === 'sequence') {
        for (const [k, runs] of st.seqs) if (runs.every((r) => !r || now - r.start > p.within)) st.seqs.delete(k);
      }
      if (c.throttle) for (const [k, t] of st.throttle) if (now - t.last >= c.throttle.per && t.suppressed === 0) st.throttle.delete(k);
      if (!st.windows.size && !st.seqs.size && !st.throttle.size) this.sweepActive.delete(c);
    }
  }

  private armPending(now: number): void {
    const pending = this.unarmed;
    this.unarmed = [];
    for (const c of pending) {
      const st = this.states.get(c.id);
      if (!st || st.enabledAt !== null || this.byId.get(c.id) !== c) continue;
      st.enabledAt = now;
      if (c.pattern.kind === 'absent' && !c.by) {
        const deadline = now + c.pattern.within;
        const seq = this.timers.nextSeq();
        st.absences.set('', { deadline, last: null, seq });
        this.syncAbsence(c);
        this.timers.push({ at: deadline, ruleId: c.id, kind: 'absent', key: '', seq });
      }
    }
  }

  /**
   * Add a new key within the per-rule bound. Existing keys are updated in place (no reordering on every event), so
   * when the bound is passed the least recently active keys, by each kind's own clock, are evicted: a tenth of the
   * bound at once, which keeps the sort this needs rare however hard the keys churn.
   */
  private admit<V>(rule: CompiledRule, map: Map<string, V>, key: string, value: V, recency: (v: V) => number): void {
    map.set(key, value);
    if (map.size <= this.maxKeys) return;
    const keep = this.maxKeys - Math.floor(this.maxKeys / 10);
    const byAge = [...map].filter(([k]) => k !== key).sort((a, b) => recency(a[1]) - recency(b[1]));
    let i = 0;
    while (map.size > keep && i < byAge.length) {
      map.delete(byAge[i++]![0]);
      rule.counters.evictions++;
    }
  }

  // ---- gates ---------------------------------------------------------------------------------------------------

  private local(now: number, tz: string | undefined): LocalTime {
    const minute = Math.floor(now / 60_000);
    const c = this.localCache;
    if (c && c.minute === minute && c.tz === tz) return c.value;
    const value = localTime(now, tz);
    this.localCache = { minute, tz, value };
    return value;
  }

  private gatesOpen(rule: CompiledRule, env: RuleEnv, at: number): boolean {
    if (rule.flagGates) {
      for (const [name, want] of rule.flagGates) if ((env.flags[name] === true) !== want) return false;
    }
    if (rule.timeGate && !rule.timeGate(this.local(at, env.timeZone))) return false;
    return true;
  }

  // ---- explain ---------------------------------------------------------------------------------------------------

  /** For every rule: would this event match it now, and if not, which condition failed. Changes no state. */
  explain(event: PanoptesEvent, env: RuleEnv): Verdict[] {
    return this.rules.map((rule) => this.explainRule(rule, event, env));
  }

  private explainRule(rule: CompiledRule, e: PanoptesEvent, env: RuleEnv): Verdict {
    const v = (matched: boolean, reason: string, details?: unknown): Verdict => ({ ruleId: rule.id, matched, reason, ...(details !== undefined ? { details } : {}) });
    const miss = matcherMiss(rule.main, e);
    const p = rule.pattern;
    const key = groupKey(rule.by, e);
    if (miss) {
      const stepInfo = this.explainSteps(rule, e);
      return v(false, stepInfo ?? miss.reason, miss.details);
    }
    if (rule.flagGates) {
      for (const [name, want] of rule.flagGates) {
        if ((env.flags[name] === true) !== want) return v(false, `$.context.flags.${name}: the flag is ${!want}, the rule wants ${want}`);
      }
    }
    if (rule.timeGate && !rule.timeGate(this.local(env.now, env.timeZone))) {
      const l = this.local(env.now, env.timeZone);
      const hhmm = `${String(Math.floor(l.minutes / 60)).padStart(2, '0')}:${String(l.minutes % 60).padStart(2, '0')}`;
      return v(false, `$.context.time: local time ${hhmm} on day ${l.day} is outside the rule's time window`);
    }
    const st = this.states.get(rule.id)!;
    const throttled = (() => {
      if (!rule.throttle) return '';
      const t = st.throttle.get(rule.throttle.by ? groupKey(rule.throttle.by, e) : '');
      return t && env.now - t.last < rule.throttle.per ? ` (a firing now would be suppressed by the throttle until ${iso(t.last + rule.throttle.per)})` : '';
    })();
    switch (p.kind) {
      case 'none':
        return v(true, `matches: the rule fires${throttled}`);
      case 'count': {
        const w = st.windows.get(key);
        const inWindow = w ? w.times.filter((t) => env.now - t <= p.within).length : 0;
        const would = inWindow + 1 >= p.n;
        return v(true, `matches; $.pattern needs ${p.n} events within ${formatDuration(p.within)}${rule.by ? ` for key ${JSON.stringify(key)}` : ''}: the window holds ${inWindow}, so this event ${would ? `completes it and the rule fires${throttled}` : 'does not fire it yet'}`);
      }
      case 'absent':
        return v(true, `matches: it re-arms the absence timer${rule.by ? ` for key ${JSON.stringify(key)}` : ''}; this rule fires on silence, ${formatDuration(p.within)} after the last matching event`);
      case 'after':
        return v(true, `matches: it counts as the follow-up that cancels a pending $.pattern.after deadline${rule.by ? ` for key ${JSON.stringify(key)}` : ''}${st.after.has(key) ? ' (one is pending)' : ' (none is pending)'}`);
      case 'sequence': {
        const runs = st.seqs.get(key);
        const done = runs?.[p.steps - 1];
        return done && env.now - done.start <= p.within
          ? v(true, `matches and completes the sequence: the rule fires${throttled}`)
          : v(false, `matches the final step, but $.pattern.sequence has not been completed${rule.by ? ` for key ${JSON.stringify(key)}` : ''} within ${formatDuration(p.within)}`);
      }
    }
  }

  private explainSteps(rule: CompiledRule, e: PanoptesEvent): string | null {
    if (rule.after && !matcherMiss(rule.after, e)) return 'the event matches $.pattern.after: it starts the deadline, the rule itself would fire only if no follow-up arrives in time';
    const j = rule.steps.findIndex((s) => !matcherMiss(s, e));
    if (j >= 0) return `the event matches $.pattern.sequence[${j}] (a step), not the final event of the sequence`;
    return null;
  }

  // ---- persistence ------------------------------------------------------------------------------------------------

  /** JSON-serializable temporal state; restore it after setRules (or before: it is matched up on the next setRules). */
  snapshot(): unknown {
    const rules: Record<string, unknown> = {};
    for (const [id, st] of this.states) {
      rules[id] = {
        sig: st.sig,
        enabledAt: st.enabledAt,
        windows: [...st.windows],
        absences: [...st.absences].map(([k, a]) => [k, { ...a, last: a.last && toRef(a.last) }]),
        after: [...st.after],
        seqs: [...st.seqs],
        throttle: [...st.throttle],
        digest: st.digest,
      };
    }
    return { version: 1, rules };
  }

  restore(snapshot: unknown): void {
    const snap = snapshot as { version?: number; rules?: Record<string, Record<string, unknown>> } | null;
    if (!snap || snap.version !== 1 || !snap.rules || typeof snap.rules !== 'object') return;
    const states = new Map<string, RuleState>();
    for (const [id, s] of Object.entries(snap.rules)) {
      try {
        const st = newState(String(s.sig));
        st.enabledAt = typeof s.enabledAt === 'number' ? s.enabledAt : null;
        st.windows = new Map(s.windows as [string, { times: number[]; events: EventRef[] }][]);
        st.absences = new Map(s.absences as [string, Absence][]);
        st.after = new Map(s.after as [string, { deadline: number; start: EventRef }][]);
        st.seqs = new Map(s.seqs as [string, ({ start: number; events: EventRef[] } | null)[]][]);
        st.throttle = new Map(s.throttle as [string, { last: number; suppressed: number }][]);
        st.digest = (s.digest as RuleState['digest']) ?? null;
        const c = this.byId.get(id);
        if (this.rules.length && (!c || c.sig !== st.sig)) continue;
        states.set(id, st);
      } catch {
        // A damaged entry loses only that rule's temporal state.
      }
    }
    for (const c of this.rules) if (!states.has(c.id)) states.set(c.id, newState(c.sig));
    this.states = states;
    this.unarmed = this.rules.filter((c) => states.get(c.id)!.enabledAt === null);
    this.bindStates();
    this.rebuildTimers(true);
  }
}

// ---- compilation ---------------------------------------------------------------------------------------------------

function compileMatcher(rule: CompiledRule, role: Matcher['role'], m: Match, base: string): Matcher {
  const sourceTest = m.when?.source !== undefined && m.when.source !== '*' ? compileGlob(m.when.source) : null;
  const typeTest = m.when?.type !== undefined && m.when.type !== '*' ? compileGlob(m.when.type) : null;
  const cond = m.if ? compileCondition(m.if, `${base}.if`) : null;
  // Patterns know their rule, so a match-budget overrun is reported on the rule (see RuleEngine.overrun).
  for (const k of cond?.program?.constants ?? []) if (k instanceof UserRegex) k.owner = rule.id;
  const out: Matcher = {
    rule,
    role,
    sourceTest,
    typeTest,
    cond,
    sourceText: `source is ${JSON.stringify(m.when?.source)}`,
    typeText: `type is ${JSON.stringify(m.when?.type)}`,
  };
  if (m.when?.source !== undefined) out.sourceGlob = m.when.source;
  if (m.when?.type !== undefined) out.typeGlob = m.when.type;
  return out;
}

function matchOf(m: Matcher): Match {
  const r = m.rule.rule;
  if (m.role === 'main') return { ...(r.when ? { when: r.when } : {}), ...(r.if ? { if: r.if } : {}) };
  const p = r.pattern as { after?: Match; sequence?: Match[] };
  return m.role === 'after' ? p.after! : p.sequence![m.role]!;
}

function compileRule(rule: Rule, order: number): CompiledRule {
  const p = rule.pattern;
  let pattern: PatternSpec = { kind: 'none' };
  if (p) {
    const within = parseDuration(p.within);
    if ('sequence' in p) pattern = { kind: 'sequence', steps: p.sequence.length, within };
    else if ('after' in p) pattern = { kind: 'after', within };
    else if ('count' in p) pattern = { kind: 'count', n: p.count, within };
    else pattern = { kind: 'absent', within };
  }
  const c: CompiledRule = {
    order,
    id: rule.id,
    name: rule.name ?? rule.id,
    rule,
    sig: JSON.stringify([rule.when, rule.if, rule.context, rule.pattern, rule.throttle, rule.digest]),
    main: null as unknown as Matcher,
    after: null,
    steps: [],
    flagGates: rule.context?.flags ? Object.entries(rule.context.flags) : null,
    timeGate: rule.context?.time ? compileTimeGate(rule.context.time) : null,
    pattern,
    by: p?.by ? getter(p.by) : null,
    throttle: rule.throttle ? { per: parseDuration(rule.throttle.per), by: rule.throttle.by ? getter(rule.throttle.by) : null } : null,
    digest: rule.digest ? { every: parseDuration(rule.digest.every) } : null,
    hasStop: rule.then.some((a) => 'stop' in a),
    then: rule.then,
    st: null as unknown as RuleState,
    counters: null as unknown as RuleCounters,
    ring: null as unknown as TraceRing,
  };
  c.main = compileMatcher(c, 'main', { ...(rule.when ? { when: rule.when } : {}), ...(rule.if ? { if: rule.if } : {}) }, '$');
  if (p && 'after' in p) c.after = compileMatcher(c, 'after', p.after, '$.pattern.after');
  if (p && 'sequence' in p) c.steps = p.sequence.map((s, j) => compileMatcher(c, j, s, `$.pattern.sequence[${j}]`));
  return c;
}

function traceMatcher(m: Matcher, e: PanoptesEvent): ConditionResult[] {
  // Sized up front: the array is kept in the trace, and a grown one carries spare capacity.
  const out: ConditionResult[] = new Array((m.sourceTest ? 1 : 0) + (m.typeTest ? 1 : 0) + (m.cond?.size ?? 0));
  let at = 0;
  if (m.sourceTest) out[at++] = { path: '$.when.source', result: m.sourceTest(e.source), test: m.sourceText, actual: e.source };
  if (m.typeTest) out[at++] = { path: '$.when.type', result: m.typeTest(e.type), test: m.typeText, actual: e.type };
  if (m.cond) traceInto(m.cond, e, out, at);
  return out;
}

function matcherMiss(m: Matcher, e: PanoptesEvent): { reason: string; details?: unknown } | null {
  if (m.sourceTest && !m.sourceTest(e.source)) return { reason: `$.when.source: ${JSON.stringify(e.source)} does not match ${JSON.stringify(m.sourceGlob)}` };
  if (m.typeTest && !m.typeTest(e.type)) return { reason: `$.when.type: ${JSON.stringify(e.type)} does not match ${JSON.stringify(m.typeGlob)}` };
  if (m.cond) {
    const w = whyFalse(m.cond, e);
    if (w) return { reason: `${w.path}: ${w.message}`, details: w };
  }
  return null;
}

/** What templates see. Written out key by key (no spreads): it is built for every firing. */
function templateScope(rule: CompiledRule, ev: EventRef | null, events: EventRef[], count: number, flags: Record<string, boolean>, key: string, at: number): Record<string, unknown> {
  if (ev === null) return { event: null, events, count, flags, rule: { id: rule.id, name: rule.name }, key, now: iso(at) };
  return {
    id: ev.id,
    ts: ev.ts,
    source: ev.source,
    type: ev.type,
    title: ev.title,
    body: ev.body,
    url: ev.url,
    fields: ev.fields,
    tags: ev.tags,
    event: ev,
    events,
    count,
    flags,
    rule: { id: rule.id, name: rule.name },
    key,
    now: iso(at),
  };
}
