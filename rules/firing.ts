/**
 * One firing and its trace. Everything a firing needs is captured when it fires (its events, key, window, the flags
 * of that moment); the actions are rendered and the trace written the first time either is read, once.
 */
import type { PanoptesEvent } from '../core/event.js';
import { formatDuration } from '../core/duration.js';
import { traceInto, type ConditionResult } from './conditions.js';
import { localTime } from './time-gate.js';
import { renderActions } from './actions.js';
import { isoTime as iso } from './iso-time.js';
import { toRef } from './event-ref.js';
import type { CompiledRule, Matcher } from './compiled-rule.js';
import type { EventRef, Firing, FiringKind, RenderedAction, Trace } from './types.js';

/** What a firing's trace shows of its window: the span, the events' own times when they differ from `ts`, the count. */
export interface WindowSpec {
  within?: number;
  times?: number[];
  count?: number;
}

/**
 * The rule processor reads the actions and the trace of every firing, in the same transaction; a firing nobody
 * reads (a rule test that only counts, the benchmark) costs no template rendering.
 */
export class EngineFiring implements Firing {
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
    const actions = renderActions(rule.then, scope, errors, rule.actionKinds);
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
    if (rule.flagGates || rule.timeGate || rule.maintenanceGate !== null) trace.context = describeContext(rule, this.flags, this.atMs, this.timeZone);
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
  // It fired, so the gate was open: maintenance was as the rule wanted.
  if (rule.maintenanceGate !== null) ctx.maintenance = { want: rule.maintenanceGate, was: rule.maintenanceGate };
  return ctx;
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
