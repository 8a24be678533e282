/**
 * "Test against history": read the events received in a range and replay them through one rule, within a budget of
 * time and events, stoppable from outside. The same function runs in the worker thread (engine/rule-test/worker.ts)
 * and, for a store with no file to open twice (`:memory:`), on the caller's thread.
 */
import type { PanoptesEvent } from '../../core/event.js';
import type { EventStore } from '../../core/store/index.js';
import type { RuleTestResult } from '../../core/protocol.js';
import { replay, type ActionKinds, type ReplayMiss, type Rule } from '../../rules/index.js';

/** What a test may spend unless it asks for less: a minute, and the 200,000 events the UI's test always read at most. */
export const RULE_TEST_LIMITS = { ms: 60_000, events: 200_000 };
const PAGE = 1_000;

export interface RuleTestJob {
  rule: Rule;
  since: string;
  until: string;
  flags: Record<string, boolean>;
  limits: { ms: number; events: number };
}

export type StopReason = NonNullable<RuleTestResult['stopped']>['reason'];

export interface RuleTestControl {
  /** Why to stop now (a cancel from outside), or null to go on. Asked between pages and every few hundred events. */
  cancelled(): boolean;
  /** How far it got: events read, then events replayed. */
  progress(phase: 'reading' | 'replaying', done: number): void;
}

export function runRuleTest(events: Pick<EventStore, 'list'>, job: RuleTestJob, kinds: ActionKinds, ctl: RuleTestControl): RuleTestResult {
  const started = Date.now();
  const deadline = started + job.limits.ms;
  // Time and a cancel stop the whole test; the event budget only stops the reading (what was read is replayed).
  let stopped: 'time' | 'cancelled' | null = null;
  let full = false;
  const stopNow = (): boolean => {
    if (stopped) return true;
    if (ctl.cancelled()) stopped = 'cancelled';
    else if (Date.now() > deadline) stopped = 'time';
    return stopped !== null;
  };
  const read: PanoptesEvent[] = [];
  let after: string | undefined;
  // Keyset pages through the range of received time; no side effects.
  while (!stopNow()) {
    const page = events.list({ since: job.since, until: job.until, order: 'asc', limit: Math.min(PAGE, job.limits.events - read.length), ...(after ? { after } : {}) });
    read.push(...page.events);
    ctl.progress('reading', read.length);
    if (!page.next) break;
    after = page.next;
    if (read.length >= job.limits.events) {
      full = true;
      break;
    }
  }
  const misses: ReplayMiss[] = [];
  let replayed = read.length;
  const firings = replay([job.rule], read, {
    flags: job.flags,
    until: job.until,
    traces: true,
    // In received time: the order the engine took the events in, so hours gates and throttles see what it saw.
    clock: 'received',
    explainMisses: 100,
    actionKinds: kinds,
    shouldStop: (n) => {
      if (stopNow()) {
        replayed = n;
        return true;
      }
      if (n % 10_240 === 0 && n) ctl.progress('replaying', n);
      return false;
    },
  }, misses);
  const reason: StopReason | null = stopped ?? (full ? 'events' : null);
  const byId = new Map(read.map((e) => [e.id, e]));
  return {
    firings,
    eventsScanned: replayed,
    since: job.since,
    until: job.until,
    misses: misses.map((m) => ({ ...m, title: byId.get(m.eventId)?.title ?? '', receivedAt: byId.get(m.eventId)?.receivedAt ?? '' })),
    errors: [],
    ...(reason ? { stopped: { reason, message: stopMessage(reason, replayed, job.limits) } } : {}),
  };
}

function stopMessage(reason: StopReason, replayed: number, limits: RuleTestJob['limits']): string {
  const n = replayed.toLocaleString('en-US');
  if (reason === 'cancelled') return `cancelled after ${n} events`;
  if (reason === 'time') return `stopped after ${(limits.ms / 1000).toLocaleString('en-US')} s, ${n} events in: pick a shorter range to test all of it`;
  return `stopped at ${limits.events.toLocaleString('en-US')} events (the most one test reads): pick a shorter range to test the rest`;
}
