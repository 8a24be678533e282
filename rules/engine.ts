/**
 * The rules engine: compiled rules behind an index, temporal state per (rule, key), one timer queue, traces.
 * Matching is synchronous and side-effect free apart from the engine's own temporal state; the caller applies flag
 * actions right after `process()` returns and sends the other actions through its outbox.
 *
 * This file is the hot path (the per-event loop, each pattern's temporal logic, throttle and digest) and the timers.
 * Compiling a rule is in compiled-rule.ts, a firing and its trace in firing.ts, `explain` in explain.ts, the
 * snapshot of temporal state in state-snapshot.ts.
 */
import type { PanoptesEvent } from '../core/event.js';
import { packPrograms, runPacked } from './condition-program.js';
import { matchBudget, resetMatchBudget } from '../core/user-regex.js';
import { MatcherIndex } from './matcher-index.js';
import { groupKey } from './paths.js';
import { localTime, type LocalTime } from './time-gate.js';
import { TimerHeap, type TimerEntry } from './timers.js';
import { TraceRing } from './trace-ring.js';
import { MAX_REF_BODY, slimRef, type RefFields } from './event-ref.js';
import { compileRule, fastKindOf, inMaintenance, matchOf, newState, FAST_ABSENT, FAST_FIRE, type Absence, type CompiledRule, type Matcher, type RuleCounters, type RuleState } from './compiled-rule.js';
import { EngineFiring, type WindowSpec } from './firing.js';
import { explainRule } from './explain.js';
import { snapshotSome, snapshotStates, statesFromSnapshot } from './state-snapshot.js';
import { NO_ACTION_KINDS, type ActionKinds, type Rule } from './schema.js';
import type { EventRef, Firing, FiringKind, RuleEnv, RuleOutput, Trace, Verdict, Withheld } from './types.js';
import { formatDuration } from '../core/duration.js';
import { isoTime } from './iso-time.js';

const MAX_DIGEST_EVENTS = 200;
const SWEEP_EVERY_MS = 60_000;

const NOTHING: RuleOutput = Object.freeze({ firings: Object.freeze([]) as unknown as Firing[], stopped: false });
const STOPPED: RuleOutput = Object.freeze({ firings: Object.freeze([]) as unknown as Firing[], stopped: true });

const windowRecency = (w: { times: number[] }) => w.times[w.times.length - 1] ?? -Infinity;
const deadlineRecency = (a: { deadline: number }) => a.deadline;
const throttleRecency = (t: { last: number }) => t.last;
const runsRecency = (runs: ({ start: number } | null)[]) => Math.max(-Infinity, ...runs.map((r) => r?.start ?? -Infinity));
const ROLE_MAIN = -2;
const ROLE_AFTER = -1;

function resetSteps(hits: boolean[], steps: number): void {
  hits.length = steps;
  hits.fill(false);
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
  /** Per rule, the fields its windows keep (read on the FAST_ABSENT path without touching the rule's object). */
  private keeps: RefFields[] = [];
  /** Per FAST_ABSENT rule, its one pending absence (the same object its state's `absences` holds under ''). */
  private singleAbsence: (Absence | undefined)[] = [];
  /** Firings on the fast path, not yet added to the rule's counters (see `flushCounts`). */
  private fastFirings = new Float64Array(0);
  private ruleIds: string[] = [];
  private ruleNames: string[] = [];
  private timers = new TimerHeap();
  private traceRing = new Map<string, TraceRing<EngineFiring>>();
  /** Firings of the current `process` / `advanceTo` call (null until the first one). */
  private firings: EngineFiring[] | null = null;
  /** Notifying rules that matched this event but held back (rare: allocated only then). */
  private withheld: Withheld[] | null = null;
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
  /**
   * Rules whose temporal state may have changed since the caller last took them (`takeChanged`), so a save serialises
   * those, not every rule (with 10,000 rules a one-event batch serialised 10,000 states). Every path that changes a
   * state marks it: matching, deadlines, sweeps, arming, rule edits (a deleted rule is marked: its saved state goes).
   * `changedAll` after a restore or at the start (nothing saved matches yet).
   */
  private changed = new Set<string>();
  private changedAll = true;
  /** Per rule (by order), already in `changed`: the hot paths test this instead of hashing the id. */
  private changedFlag = new Uint8Array(0);

  private readonly actionKinds: ActionKinds;

  /** `actionKinds`: the actions monitor types contribute (as validateRules was given them), for rendering. */
  constructor(opts: { maxTracesPerRule?: number; maxKeysPerRule?: number; matchBudgetMs?: number; actionKinds?: ActionKinds } = {}) {
    if (opts.matchBudgetMs !== undefined) matchBudget.limitMs = opts.matchBudgetMs;
    this.actionKinds = opts.actionKinds ?? NO_ACTION_KINDS;
    this.maxTraces = opts.maxTracesPerRule ?? 50;
    this.maxKeys = opts.maxKeysPerRule ?? 10_000;
  }

  /** Compile rules (disabled ones are skipped) and rebuild the index; temporal state of unchanged rules is kept. */
  setRules(rules: Rule[]): void {
    const compiled: CompiledRule[] = [];
    const matchers: Matcher[] = [];
    for (const rule of rules) {
      if (rule.enabled === false) continue;
      const c = compileRule(rule, compiled.length, this.actionKinds);
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
    this.keeps = compiled.map((c) => c.keep);
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
    this.changedFlag = new Uint8Array(compiled.length);
    for (const [id, st] of this.states) {
      const c = this.byId.get(id);
      if (!c || c.sig !== st.sig) {
        this.states.delete(id);
        this.changed.add(id);
      }
    }
    for (const c of compiled) {
      if (!this.states.has(c.id)) {
        this.states.set(c.id, newState(c.sig));
        this.changed.add(c.id);
      }
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

  /** Rule `r` (by order) changed its temporal state. */
  private touch(r: number): void {
    if (this.changedFlag[r] === 1) return;
    this.changedFlag[r] = 1;
    this.changed.add(this.ruleIds[r]!);
  }

  /**
   * The rules whose state changed since the last call (null: every rule may have), and forget them: the caller saves
   * those. Should the save not commit, it gives them back (`markChanged`).
   */
  takeChanged(): Set<string> | null {
    const all = this.changedAll;
    const changed = this.changed;
    this.changedAll = false;
    this.changed = new Set();
    this.changedFlag.fill(0);
    return all ? null : changed;
  }

  /** Changes taken but not saved after all: the next `takeChanged` returns them again. */
  markChanged(ids: Set<string> | null): void {
    if (ids === null) this.changedAll = true;
    else for (const id of ids) this.changed.add(id);
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
          a.last = slimRef(event, this.keeps[r]!);
          a.seq = this.timers.nextSeq();
          this.touch(r);
          continue;
        }
      }
      const rule = this.rules[r]!;
      // Whatever onEvent does below may change the rule's state (windows, deadlines, runs, throttle, digest).
      this.touch(r);
      if (!stepHit && rule.steps.length) resetSteps(stepHits, rule.steps.length);
      if (mainHit && !this.gatesOpen(rule, env, now, event)) {
        mainHit = false;
        // Only where the event alone would have fired it: for a count or sequence it just does not count.
        if (rule.notifies && rule.pattern.kind === 'none') this.withhold(rule, event.id, 'suppressed', this.closedGate(rule, env, event));
      }
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
    const withheld = this.withheld;
    this.firings = null;
    this.withheld = null;
    this.flagSnapshot = null;
    if (withheld !== null) return { firings: firings ?? [], stopped, withheld };
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
        w.events.push(slimRef(e, rule.keep));
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
          prev.last = slimRef(e, rule.keep);
          prev.seq = seq;
          return false;
        }
        this.admit(rule, st.absences, key, { deadline, last: slimRef(e, rule.keep), seq }, deadlineRecency);
        this.syncAbsence(rule);
        this.timers.push({ at: deadline, ruleId: rule.id, kind: 'absent', key, seq });
        return false;
      }
      case 'after': {
        const key = groupKey(rule.by, e);
        if (mainHit) st.after.delete(key);
        if (afterHit && !st.after.has(key)) {
          const deadline = now + p.within;
          this.admit(rule, st.after, key, { deadline, start: slimRef(e, rule.keep) }, deadlineRecency);
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
          const events = [...complete.events, slimRef(e, rule.keep)];
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
          if (!cur || prev.start >= cur.start) runs[j] = { start: prev.start, events: [...prev.events, slimRef(e, rule.keep)] };
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
        if (rule.notifies && trigger) {
          const per = formatDuration(rule.throttle.per);
          this.withhold(rule, trigger.id, 'throttled', `its throttle lets one notification through per ${per}${rule.throttle.by ? ` for ${JSON.stringify(tkey)}` : ''}, and one went out at ${isoTime(t.last)} (${t.suppressed} held back since)`);
        }
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
      for (const ev of refs) d.events.push(slimRef(ev, rule.keep));
      if (d.events.length > MAX_DIGEST_EVENTS) {
        const over = d.events.length - MAX_DIGEST_EVENTS;
        d.events.splice(0, over);
        // Counted so the saved rows tell the events let go from the ones added (rules/state-delta.ts).
        d.dropped = (d.dropped ?? 0) + over;
      }
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
    this.touch(rule.order);
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
    if (!this.gatesOpen(rule, env, t.at, trigger)) {
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
        if (fresh || a.seq === undefined) {
          a.seq = this.timers.nextSeq();
          // Saved with the state: a restore marks every rule anyway (`restore`).
          this.changed.add(id);
        }
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
      const held = st.windows.size + st.seqs.size + st.throttle.size;
      if (p.kind === 'count') {
        for (const [k, w] of st.windows) if (!w.times.length || now - w.times[w.times.length - 1]! > p.within) st.windows.delete(k);
      } else if (p.kind === 'sequence') {
        for (const [k, runs] of st.seqs) if (runs.every((r) => !r || now - r.start > p.within)) st.seqs.delete(k);
      }
      if (c.throttle) for (const [k, t] of st.throttle) if (now - t.last >= c.throttle.per && t.suppressed === 0) st.throttle.delete(k);
      const left = st.windows.size + st.seqs.size + st.throttle.size;
      if (left !== held) this.touch(c.order);
      if (!left) this.sweepActive.delete(c);
    }
  }

  private armPending(now: number): void {
    const pending = this.unarmed;
    this.unarmed = [];
    for (const c of pending) {
      const st = this.states.get(c.id);
      if (!st || st.enabledAt !== null || this.byId.get(c.id) !== c) continue;
      st.enabledAt = now;
      this.touch(c.order);
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

  private withhold(rule: CompiledRule, eventId: string, fate: Withheld['fate'], reason: string): void {
    (this.withheld ??= []).push({ ruleId: rule.id, ruleName: rule.name, eventId, fate, reason });
  }

  /** Which gate was closed, in plain words (only asked when one was). */
  private closedGate(rule: CompiledRule, env: RuleEnv, about: PanoptesEvent): string {
    for (const [name, want] of rule.flagGates ?? []) {
      const was = env.flags[name] === true;
      if (was !== want) return `it notifies only while the "${name}" flag is ${want ? 'set' : 'not set'}, and it was ${was ? 'set' : 'not set'}`;
    }
    if (rule.maintenanceGate !== null && inMaintenance(env, about, env.now) !== rule.maintenanceGate) {
      return rule.maintenanceGate ? 'it notifies only during maintenance, and this came outside it' : 'it stays quiet during maintenance, and this came in maintenance';
    }
    const t = rule.rule.context?.time;
    const hours = t?.between ? ` ${t.between[0]}–${t.between[1]}` : '';
    const days = t?.days ? ` on ${t.days.join(', ')}` : '';
    return `it notifies only during its hours (${(hours + days).trim() || 'set in its context'}${env.timeZone ? `, ${env.timeZone}` : ''}), and this came outside them`;
  }

  /** `about`: the event the firing is about (for a silence, the last one seen, or none); it picks the maintenance windows that apply. */
  private gatesOpen(rule: CompiledRule, env: RuleEnv, at: number, about: EventRef | PanoptesEvent | null): boolean {
    if (rule.flagGates) {
      for (const [name, want] of rule.flagGates) if ((env.flags[name] === true) !== want) return false;
    }
    if (rule.timeGate && !rule.timeGate(this.local(at, env.timeZone))) return false;
    if (rule.maintenanceGate !== null && inMaintenance(env, about, at) !== rule.maintenanceGate) return false;
    return true;
  }

  // ---- explain ---------------------------------------------------------------------------------------------------

  /** For every rule: would this event match it now, and if not, which condition failed. Changes no state. */
  explain(event: PanoptesEvent, env: RuleEnv): Verdict[] {
    const local = (at: number, tz: string | undefined) => this.local(at, tz);
    return this.rules.map((rule) => explainRule(rule, this.states.get(rule.id)!, event, env, local));
  }

  // ---- persistence ------------------------------------------------------------------------------------------------

  /** JSON-serializable temporal state; restore it after setRules (or before: it is matched up on the next setRules). */
  snapshot(): unknown {
    return snapshotStates(this.states);
  }

  /** The state of each of `ids` in the snapshot's form, null for a rule that has none now (deleted, or changed and not yet set). */
  snapshotOf(ids: Iterable<string>): Map<string, unknown | null> {
    return snapshotSome(this.states, ids);
  }

  restore(snapshot: unknown): void {
    const states = statesFromSnapshot(snapshot, (id, sig) => {
      const c = this.byId.get(id);
      return !(this.rules.length && (!c || c.sig !== sig));
    });
    if (!states) return;
    for (const c of this.rules) if (!states.has(c.id)) states.set(c.id, newState(c.sig));
    // State an older version saved may hold whole events: cut to what each rule keeps now.
    for (const c of this.rules) {
      const st = states.get(c.id)!;
      const slim = (e: EventRef) => slimRef(e, c.keep);
      for (const w of st.windows.values()) w.events = w.events.map(slim);
      for (const a of st.absences.values()) if (a.last) a.last = slim(a.last);
      for (const a of st.after.values()) a.start = slim(a.start);
      for (const runs of st.seqs.values()) for (const r of runs) if (r) r.events = r.events.map(slim);
      if (st.digest) st.digest.events = st.digest.events.map(slim);
    }
    this.states = states;
    // Everything may differ from what was saved (cut copies, renumbered deadlines, states dropped): saved whole next.
    this.changedAll = true;
    this.unarmed = this.rules.filter((c) => states.get(c.id)!.enabledAt === null);
    this.bindStates();
    this.rebuildTimers(true);
  }
}
