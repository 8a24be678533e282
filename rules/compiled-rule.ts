/**
 * A rule as the engine runs it: its matchers (the rule's own `when`/`if`, a pattern's `after` and sequence steps),
 * its pattern, gates, throttle and digest parsed once, and the temporal state and counters it is bound to.
 */
import { parseDuration } from '../core/duration.js';
import { UserRegex } from '../core/user-regex.js';
import { compileCondition, type CompiledCondition } from './conditions.js';
import { compileGlob, globToRegExp, isGlob } from './glob.js';
import { getter } from './condition-program.js';
import type { Getter } from './paths.js';
import { compileTimeGate, type TimeGate } from './time-gate.js';
import type { TraceRing } from './trace-ring.js';
import { templateFieldUse } from './templates.js';
import type { RefFields } from './event-ref.js';
import type { Action, ActionKinds, Condition, Match, Rule } from './schema.js';
import type { EventRef, Firing, RuleEnv } from './types.js';
import type { PanoptesEvent } from '../core/event.js';
import { MAINTENANCE_FLAG } from '../core/maintenance.js';

/**
 * Maintenance for the event a firing is about (for a silence, the last one seen, or none): the env's answer for its
 * source and tags, or the `maintenance` flag alone when the env has none (replays, rule tests).
 */
export function inMaintenance(env: RuleEnv, about: EventRef | PanoptesEvent | null, at: number): boolean {
  if (env.maintenance) return env.maintenance(about?.source ?? null, about?.tags ?? [], at);
  return env.flags[MAINTENANCE_FLAG] === true;
}

export type PatternSpec =
  | { kind: 'none' }
  | { kind: 'count'; n: number; within: number }
  | { kind: 'absent'; within: number }
  | { kind: 'after'; within: number }
  | { kind: 'sequence'; steps: number; within: number };

export interface Matcher {
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

export interface CompiledRule {
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
  /** `context.maintenance`: fire only in (true) or out of (false) maintenance; null when the rule does not say. */
  maintenanceGate: boolean | null;
  pattern: PatternSpec;
  by: Getter | null;
  throttle: { per: number; by: Getter | null } | null;
  digest: { every: number } | null;
  hasStop: boolean;
  /** The fields its windows keep of each event (what its templates and keys read). */
  keep: RefFields;
  /** It has a `notify` action: when it matches but holds back, the notification center is told why. */
  notifies: boolean;
  then: Action[];
  /** The contributed action kinds `then` may use, for rendering. */
  actionKinds: ActionKinds;
  /** This rule's entries in the engine's `states` / `counters` maps (re-bound whenever those change). */
  st: RuleState;
  counters: RuleCounters;
  ring: TraceRing<Firing>;
}

export interface RuleState {
  sig: string;
  enabledAt: number | null;
  windows: Map<string, { times: number[]; events: EventRef[] }>;
  /** `seq`: the timer order of the deadline (see TimerHeap); only meaningful within one process. */
  absences: Map<string, Absence>;
  after: Map<string, { deadline: number; start: EventRef }>;
  seqs: Map<string, ({ start: number; events: EventRef[] } | null)[]>;
  throttle: Map<string, { last: number; suppressed: number }>;
  /** `dropped`: events let go from the front since the digest opened (past its limit), so `events[i]` is the `dropped + i`th. */
  digest: { deadline: number; count: number; events: EventRef[]; dropped?: number } | null;
}

export interface Absence {
  deadline: number;
  last: EventRef | null;
  seq?: number;
}

export interface RuleCounters {
  firings: number;
  suppressedByThrottle: number;
  evictions: number;
  gatedTimerFirings: number;
  renderErrors: number;
  /** Events on which this rule's patterns were skipped because the event used up its matching time budget. */
  matchErrors: number;
}

export function newState(sig: string): RuleState {
  return { sig, enabledAt: null, windows: new Map(), absences: new Map(), after: new Map(), seqs: new Map(), throttle: new Map(), digest: null };
}

/**
 * The two commonest kinds of rule take a path in the engine that reads only its per-rule arrays: a plain rule that
 * fires on a matching event, and an absence without `by` re-armed by one. Everything else is 0.
 */
export const FAST_FIRE = 1;
export const FAST_ABSENT = 2;

export function fastKindOf(c: CompiledRule): number {
  const plain = !c.flagGates && !c.timeGate && c.maintenanceGate === null && !c.after && c.steps.length === 0;
  if (plain && c.pattern.kind === 'none' && !c.throttle && !c.digest && !c.hasStop) return FAST_FIRE;
  if (plain && c.pattern.kind === 'absent' && !c.by) return FAST_ABSENT;
  return 0;
}

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

/** The `when`/`if` a matcher was compiled from, as the index takes it. */
export function matchOf(m: Matcher): Match {
  const r = m.rule.rule;
  if (m.role === 'main') return foldAgent({ ...(r.when ? { when: r.when } : {}), ...(r.if ? { if: r.if } : {}) });
  const p = r.pattern as { after?: Match; sequence?: Match[] };
  return foldAgent(m.role === 'after' ? p.after! : p.sequence![m.role]!);
}

/** `st`, `counters` and `ring` are left for the engine to bind (see RuleEngine.bindStates). */

/**
 * `when.agent` becomes a test on the `agent` path inside `if` (all of them must hold): the index, the traces and
 * the "why not" answers then treat it like any other condition, and `when` stays what the index settles by route.
 */
export function foldAgent(m: Match): Match {
  const agent = m.when?.agent;
  if (agent === undefined) return m;
  const { agent: _drop, ...when } = m.when!;
  const out: Match = Object.keys(when).length ? { when } : {};
  if (agent === '*') return m.if ? { ...out, if: m.if } : out;
  const test: Condition = isGlob(agent) ? { field: 'agent', matches: globToRegExp(agent).source } : { field: 'agent', equals: agent };
  out.if = m.if ? { all: [test, m.if] } : test;
  return out;
}

/** Every string in an action's parameters (its templates), however deep. */
function strings(v: unknown, out: string[]): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) strings(x, out);
  return out;
}

/** The event fields a rule reads after matching: in its templates and in its `by` and `throttle.by` keys. */
function fieldsRead(rule: Rule): RefFields {
  const names = new Set<string>();
  for (const tpl of strings(rule.then, [])) {
    const use = templateFieldUse(tpl);
    if (use.all) return 'all';
    for (const n of use.names) names.add(n);
  }
  for (const path of [rule.pattern?.by, rule.throttle?.by]) {
    if (path?.startsWith('fields.')) names.add(path.slice('fields.'.length).split('.')[0]!);
    // An agent.online/offline event names its agent in a field.
    else if (path === 'agent') names.add('agentId');
  }
  return names;
}

export function compileRule(rule: Rule, order: number, actionKinds: ActionKinds): CompiledRule {
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
    maintenanceGate: rule.context?.maintenance ?? null,
    pattern,
    by: p?.by ? getter(p.by) : null,
    throttle: rule.throttle ? { per: parseDuration(rule.throttle.per), by: rule.throttle.by ? getter(rule.throttle.by) : null } : null,
    digest: rule.digest ? { every: parseDuration(rule.digest.every) } : null,
    hasStop: rule.then.some((a) => 'stop' in a),
    keep: fieldsRead(rule),
    notifies: rule.then.some((a) => 'notify' in a),
    then: rule.then,
    actionKinds,
    st: null as unknown as RuleState,
    counters: null as unknown as RuleCounters,
    ring: null as unknown as TraceRing<Firing>,
  };
  c.main = compileMatcher(c, 'main', foldAgent({ ...(rule.when ? { when: rule.when } : {}), ...(rule.if ? { if: rule.if } : {}) }), '$');
  if (p && 'after' in p) c.after = compileMatcher(c, 'after', foldAgent(p.after), '$.pattern.after');
  if (p && 'sequence' in p) c.steps = p.sequence.map((s, j) => compileMatcher(c, j, foldAgent(s), `$.pattern.sequence[${j}]`));
  return c;
}
