/**
 * Replay: run rules over recorded events in event time, with no side effects. Flags set or cleared by the rules'
 * own flag actions apply to later events (that is how rules chain), and timers fire at their deadlines as event
 * time passes them. The same function backs `panoptes replay`, `rules.test` and the tests.
 */
import type { PanoptesEvent } from '../core/event.js';
import { parseDuration } from '../core/duration.js';
import { RuleEngine } from './engine.js';
import type { ActionKinds, Rule } from './schema.js';
import type { Firing, RenderedAction, RuleOutput, Trace } from './types.js';

export interface ReplayFiring {
  rule: string;
  at: string;
  events: string[];
  actions: RenderedAction[];
  trace?: Trace;
}

export interface ReplayOptions {
  flags?: Record<string, boolean>;
  /** After the last event, advance time to this instant (ISO) so pending absences and digests can fire. */
  until?: string;
  /** Include each firing's trace (off by default: the CLI prints the firing lines only). */
  traces?: boolean;
  /**
   * Whose clock runs the rules: `event` (default: what the source says happened when, `panoptes replay`) or
   * `received` (when Panoptes took each event in: what the running engine did, so "test against history" matches it).
   */
  clock?: 'event' | 'received';
  /** Explain (up to this many) events that fired nothing: the rule's reason at that moment. */
  explainMisses?: number;
  /** The actions monitor types contribute (as the rules were validated with). */
  actionKinds?: ActionKinds;
  /**
   * Asked every few hundred events with how many were replayed so far: true stops the replay there (a budget spent,
   * a cancel). What fired until then is returned; `until` is not advanced to.
   */
  shouldStop?: (replayed: number) => boolean;
}

export interface ReplayMiss {
  eventId: string;
  reason: string;
}

/** Flags as the replay sees them, with `for` expiries applied in event time. */
class ReplayFlags {
  readonly values: Record<string, boolean>;
  private expiries = new Map<string, number>();

  constructor(initial: Record<string, boolean>) {
    this.values = { ...initial };
  }

  nextExpiry(): number | null {
    let min: number | null = null;
    for (const t of this.expiries.values()) if (min === null || t < min) min = t;
    return min;
  }

  expire(now: number): void {
    for (const [name, t] of this.expiries) {
      if (t <= now) {
        this.values[name] = false;
        this.expiries.delete(name);
      }
    }
  }

  apply(firings: Firing[], now: number): void {
    for (const f of firings) {
      for (const a of f.actions) {
        if (!('flag' in a)) continue;
        const flag = (a as { flag: { set?: string; clear?: string; toggle?: string; for?: string } }).flag;
        const { set, clear, toggle } = flag;
        const name = (set ?? clear ?? toggle)!;
        const value = set !== undefined ? true : clear !== undefined ? false : !this.values[name];
        this.values[name] = value;
        this.expiries.delete(name);
        if (value && flag.for) this.expiries.set(name, now + parseDuration(flag.for));
      }
    }
  }
}

export function eventTime(e: PanoptesEvent): number {
  const t = Date.parse(e.ts);
  return Number.isNaN(t) ? 0 : t;
}

function receivedTime(e: PanoptesEvent): number {
  const t = Date.parse(e.receivedAt);
  return Number.isNaN(t) ? eventTime(e) : t;
}

export function replay(rules: Rule[], events: PanoptesEvent[], opts: ReplayOptions = {}, misses?: ReplayMiss[]): ReplayFiring[] {
  const engine = new RuleEngine(opts.actionKinds ? { actionKinds: opts.actionKinds } : {});
  engine.setRules(rules);
  const flags = new ReplayFlags(opts.flags ?? {});
  const out: ReplayFiring[] = [];
  const collect = (o: RuleOutput) => {
    for (const f of o.firings) {
      out.push({ rule: f.ruleId, at: f.at, events: f.eventIds, actions: f.actions, ...(opts.traces ? { trace: f.trace } : {}) });
    }
  };
  /** Fire timers and flag expiries strictly before `t` (or up to and including it), in time order. */
  const advance = (t: number, inclusive: boolean) => {
    for (;;) {
      const candidates = [engine.nextDeadline(), flags.nextExpiry()].filter((x): x is number => x !== null);
      if (!candidates.length) return;
      const next = Math.min(...candidates);
      if (next > t || (!inclusive && next === t)) return;
      flags.expire(next);
      const o = engine.advanceTo(next, { now: next, flags: flags.values });
      flags.apply(o.firings, next);
      collect(o);
    }
  };
  // Stable sort by the chosen clock: events recorded out of order are replayed as they happened.
  const timeOf = opts.clock === 'received' ? receivedTime : eventTime;
  const ordered = events.map((e, i) => ({ e, t: timeOf(e), i })).sort((a, b) => a.t - b.t || a.i - b.i);
  const explainUpTo = misses ? (opts.explainMisses ?? 0) : 0;
  const shouldStop = opts.shouldStop;
  let replayed = 0;
  for (const { e, t } of ordered) {
    if (shouldStop && (replayed & 255) === 0 && shouldStop(replayed)) return out;
    replayed++;
    advance(t, false);
    flags.expire(t);
    // Asked before processing, so the reason is the one at that moment (a throttle, a window not yet full).
    const verdicts = misses && misses.length < explainUpTo ? engine.explain(e, { now: t, flags: flags.values }) : null;
    const o = engine.process(e, { now: t, flags: flags.values });
    if (verdicts && !o.firings.some((f) => f.eventIds.includes(e.id))) {
      misses!.push({ eventId: e.id, reason: verdicts.map((v) => v.reason).join('; ') || 'no rule' });
    }
    flags.apply(o.firings, t);
    collect(o);
  }
  if (opts.until) {
    const until = Date.parse(opts.until);
    if (Number.isNaN(until)) throw new Error(`--until: ${JSON.stringify(opts.until)} is not an ISO date/time`);
    advance(until, true);
  }
  // An event held for a later firing (a count window completed by a later event, a digest sent at its time) did
  // fire, with the others: it is not a miss.
  if (misses?.length) {
    const fired = new Set(out.flatMap((f) => f.events));
    const kept = misses.filter((m) => !fired.has(m.eventId));
    misses.splice(0, misses.length, ...kept);
  }
  return out;
}
