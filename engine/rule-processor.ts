import type { StoredEvent } from '../core/event.js';
import type { Store } from '../core/store/index.js';
import type { Logger } from '../core/log.js';
import type { Clock } from '../core/clock.js';
import type { FlagManager } from '../core/flags.js';
import { isInMaintenance } from '../core/maintenance.js';
import type { RuleEngine, Firing, RuleOutput } from '../rules/index.js';
import type { AddedTrace, OutboxItem } from '../core/store/index.js';
import type { AfterCommit } from './event-writer.js';

/** The outbox dispatcher's side of the hand-off: actions started from the rules' own commit (see `OutboxDispatcher.claim`). */
export interface OutboxHandoff {
  claim(action: Record<string, unknown>, lane: string): boolean;
  unclaim(lane: string): void;
  startClaimed(items: OutboxItem[]): void;
}
import { SavedRuleStates } from '../rules/state-delta.js';

const CURSOR = 'rules';
/** The cursor's state once the rules' state lives in its own rows (before: the whole snapshot, version 1). */
const SAVED_IN_ROWS = { version: 2, savedIn: 'rule_states' };

/** A rule that failed on one event at run time ('' as ruleId: the event could not be processed at all). */
export interface RuleRuntimeError {
  ruleId: string;
  eventId: string;
  at: string;
  message: string;
}
const BATCH = 500;
/** How long kept traces wait before they are written (see `TraceTable`): a crash loses at most this much of them. */
const TRACE_WRITE_MS = 1_000;

/** Actions applied at once while processing (so the next event sees them) rather than through the outbox. */
const IMMEDIATE = new Set(['flag', 'tag', 'stop']);

export function actionKind(action: Record<string, unknown>): string {
  return Object.keys(action)[0] ?? 'unknown';
}

/**
 * Consumes the event log in order from a persisted cursor. For each batch, in ONE transaction: rule matching,
 * flag/tag effects, outbox rows for the other actions, what changed in the rules' temporal state, and the cursor (the
 * traces follow within TRACE_WRITE_MS, see `TraceTable`). A
 * crash anywhere replays the batch from the old cursor; outbox rows are keyed (rule, event, action) so the
 * replay enqueues nothing twice.
 */
export class RuleProcessor {
  private seq: number;
  private running = false;
  private again = false;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private traceTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly saved = new SavedRuleStates();
  /** The cursor still holds a whole snapshot (or nothing): the first save clears the rows and marks it SAVED_IN_ROWS. */
  private firstSave: boolean;

  constructor(
    private readonly store: Store,
    private readonly rules: RuleEngine,
    private readonly flags: FlagManager,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly onEnqueued: () => void,
    private readonly onTagged: (eventId: string, tags: string[]) => void = () => {},
    /** The lane (destination) an outbox action runs in, recorded with its row. */
    private readonly laneOf: (action: Record<string, unknown>) => string = actionKind,
    private readonly onRuleError?: (e: RuleRuntimeError) => void,
    private readonly handoff?: OutboxHandoff,
  ) {
    const c = store.cursors.get(CURSOR);
    this.seq = c.seq;
    this.firstSave = (c.state as { version?: number } | null)?.version !== SAVED_IN_ROWS.version;
    this.restoreSaved();
  }

  /**
   * The rules' state as the store holds it: at start, and after a transaction that processed events rolled back — its
   * rows are back as they were, but matching had already changed the windows in memory, and the events processed again
   * from the cursor were counted twice ("3 within 10 minutes" fired after two events).
   */
  private restoreSaved(): void {
    try {
      // A store written before migration 7 has the whole snapshot in the cursor; it is moved to rows on the first save.
      const snapshot = this.firstSave ? this.store.cursors.get(CURSOR).state : this.saved.load(this.store.ruleStates.load());
      // Nothing saved yet (a new store): every rule starts blank again.
      this.rules.restore(snapshot ?? { version: 1, rules: {} });
    } catch (err) {
      this.log.warn(`rule windows could not be restored, starting them empty: ${(err as Error).message}`);
    }
  }

  /**
   * Save the cursor and what changed in the rules' state since the last save, inside the caller's transaction. The
   * returned function records the save as done: call it once the transaction committed (a rolled back one leaves
   * the rows as they were, and the next save compares with those).
   */
  private saveState(): AfterCommit {
    const first = this.firstSave;
    // Only the rules the batch changed are serialised and compared (with 10,000 rules, comparing all of them cost
    // more than the batch); all of them on the first save, after a restore, or when asked to (the benchmark's before).
    const changed = this.rules.takeChanged();
    try {
      if (first) {
        this.store.ruleStates.clear();
        this.saved.reset();
      }
      const delta =
        first || changed === null || this.saveEveryRule ? this.saved.diff(this.rules.snapshot()) : this.saved.diffSome(this.rules.snapshotOf(changed));
      this.store.ruleStates.apply(delta);
      this.store.cursors.set(CURSOR, this.seq, first ? SAVED_IN_ROWS : undefined);
      return {
        committed: () => {
          this.saved.accept(delta);
          if (first) this.firstSave = false;
        },
        // The rows are as they were: these rules are compared again with the next save.
        rolledBack: () => this.rules.markChanged(changed),
      };
    } catch (err) {
      this.rules.markChanged(changed);
      throw err;
    }
  }

  /**
   * Serialise and compare every rule's state with each save, as before the engine told which rules changed: only for
   * the benchmark's side-by-side figure (the rows written are the same either way).
   */
  saveEveryRule = false;

  /** Rule states serialised to save them so far (see `SavedRuleStates.compared`). */
  get statesCompared(): number {
    return this.saved.compared;
  }

  get cursor(): number {
    return this.seq;
  }

  /** Processing lag: events stored but not yet through the rules. */
  lag(): number {
    return Math.max(0, this.store.events.maxSeq() - this.seq);
  }

  /** Events up to `upTo` are stored: process them, unless their own transaction did (`processAppended`). */
  stored(upTo: number): void {
    if (upTo > this.seq) this.wake();
  }

  wake(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    if (this.closed) {
      this.running = false;
      return;
    }
    try {
      for (;;) {
        const batch = this.store.events.readAfter(this.seq, BATCH);
        if (!batch.length) break;
        this.processBatch(batch);
        if (batch.length < BATCH) break;
      }
      this.runTimers();
    } catch (err) {
      this.log.error(`rule processing failed, will retry: ${(err as Error).stack ?? err}`);
      setTimeout(() => this.wake(), 1_000).unref?.();
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    }
  }

  /**
   * Everything processing writes (the cursor and windows, outbox rows, flags) is derived from stored events
   * and commits with the cursor, so its own transaction does not wait for the disk: should power fail before the next
   * durable commit, the cursor is back where the writes were and the same events are processed again; the actions
   * get the same idempotency keys. Waiting here too doubled the fsyncs per event.
   */
  private processBatch(batch: StoredEvent[]): void {
    this.ownTransaction(() => this.processEvents(batch));
  }

  /**
   * Called by the event writer inside the transaction that appended `stored` (see `EventWriter`): when they are the
   * very next events after the cursor, they are processed right there, in a savepoint, instead of being read back and
   * processed in a transaction of their own — one commit per batch instead of two. Returns what to do once the
   * writer's transaction has committed or rolled back; null leaves the events to the drain (the processor is behind,
   * or processing failed: the savepoint is undone, the events stay stored, and the drain tries them from the cursor).
   */
  processAppended(stored: StoredEvent[]): AfterCommit | null {
    if (this.closed || !stored.length || stored[0]!.seq !== this.seq + 1) return null;
    try {
      const after = this.store.savepoint(() => this.inTransaction(() => this.processEvents(stored)));
      return {
        committed: () => {
          after.committed();
          // No drain follows (see `stored`): the next deadline's timer is set here, as the drain would.
          this.armTimer();
        },
        rolledBack: after.rolledBack,
      };
    } catch (err) {
      // The savepoint is undone: so is what matching did in memory.
      this.restoreSaved();
      this.log.warn(`rules: processing events with their append failed, processing them on their own: ${(err as Error).message}`);
      return null;
    }
  }

  /** Match and apply each event (inside the caller's transaction); returns how many outbox rows were added. */
  private processEvents(batch: StoredEvent[]): number {
    let enqueued = 0;
    for (const event of batch) {
      let out: RuleOutput;
      try {
        out = this.rules.process(event, { now: this.clock.now(), flags: this.flags.values(), maintenance: isInMaintenance });
      } catch (err) {
        // Matching is pure computation: what fails on this event fails on every replay of it. Retrying would wedge
        // the processor on one stored event for good (across restarts too), so it is recorded and passed.
        this.log.error(`rules could not process event ${event.id}, skipped: ${(err as Error).stack ?? err}`);
        this.onRuleError?.({ ruleId: '', eventId: event.id, at: new Date(this.clock.now()).toISOString(), message: `event skipped: ${(err as Error).message}` });
        this.seq = event.seq;
        continue;
      }
      enqueued += this.apply(out, event);
      if (out.errors) this.recordErrors(out.errors, event);
      if (out.withheld) this.recordWithheld(out.withheld);
      this.seq = event.seq;
    }
    return enqueued;
  }

  /** Actions claimed by the hand-off in the transaction under way, started once it commits. */
  private claimed: OutboxItem[] | null = null;

  /**
   * Processing `work` (returns the outbox rows it added) inside the caller's transaction, then the traces trimmed and
   * the state saved with the cursor. Returns what to do after that transaction: once committed, the handed-off
   * actions start and the save counts as done; if it rolled back, the cursor goes back and the claims are given back.
   */
  private inTransaction(work: () => number): AfterCommit {
    const seqBefore = this.seq;
    const claimed: OutboxItem[] = [];
    const undo = () => {
      this.seq = seqBefore;
      for (const item of claimed) this.handoff?.unclaim(item.lane);
    };
    this.claimed = claimed;
    let enqueued: number;
    let saved: AfterCommit;
    let traces: AddedTrace[];
    try {
      enqueued = work();
      saved = this.saveState();
    } catch (err) {
      undo();
      throw err;
    } finally {
      this.claimed = null;
      traces = this.store.traces.takeAdded();
    }
    return {
      committed: () => {
        saved.committed();
        this.keepTraces(traces);
        if (claimed.length) this.handoff?.startClaimed(claimed);
        if (enqueued) this.onEnqueued();
      },
      rolledBack: () => {
        saved.rolledBack();
        undo();
        this.restoreSaved();
      },
    };
  }

  /** Processing `work` in a transaction of its own (derived data: not waited for on disk). */
  private ownTransaction(work: () => number): void {
    let after: AfterCommit | undefined;
    try {
      this.store.txDerived(() => {
        after = this.inTransaction(work);
      });
    } catch (err) {
      after?.rolledBack();
      if (!after) this.restoreSaved();
      throw err;
    }
    after!.committed();
  }

  /** A rule that could not be evaluated on an event: a trace saying why (what the user opens), and the health list. */
  private recordErrors(errors: NonNullable<RuleOutput['errors']>, event: StoredEvent): void {
    const at = new Date(this.clock.now()).toISOString();
    for (const e of errors) {
      this.log.warn(`rule ${e.ruleId}: ${e.message}`);
      this.store.traces.add(e.ruleId, at, [event.id], { ruleId: e.ruleId, at, kind: 'event', eventIds: [event.id], actions: [], error: e.message });
      this.onRuleError?.({ ruleId: e.ruleId, eventId: event.id, at, message: e.message });
    }
  }

  /** Rules that matched but held back (throttle, context gate): the notification center's "why" reads these. */
  private recordWithheld(withheld: NonNullable<RuleOutput['withheld']>): void {
    const at = this.clock.now();
    for (const w of withheld) {
      this.store.notifications.fate({ event_id: w.eventId, rule_id: w.ruleId, notice_id: null, fate: w.fate, detail: `"${w.ruleName}" matched but did not notify: ${w.reason}`, at });
    }
  }

  /** Absences, after-absence deadlines and digests come due with time, not with events: one timer for the next. */
  private runTimers(): void {
    const now = this.clock.now();
    const deadline = this.rules.nextDeadline();
    if (deadline !== null && deadline <= now) {
      this.ownTransaction(() => this.apply(this.rules.advanceTo(now, { now, flags: this.flags.values(), maintenance: isInMaintenance }), null));
    }
    this.armTimer();
  }

  private armTimer(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    if (this.closed) return;
    const next = this.rules.nextDeadline();
    if (next === null) return;
    const delay = Math.max(0, Math.min(next - this.clock.now(), 2 ** 31 - 1));
    this.deadlineTimer = setTimeout(() => this.wake(), delay);
    this.deadlineTimer.unref?.();
  }

  /** Rules changed: re-arm the timer for the new set. */
  rulesChanged(): void {
    this.armTimer();
  }

  private apply(out: RuleOutput, event: StoredEvent | null): number {
    let enqueued = 0;
    for (const firing of out.firings) {
      enqueued += this.applyFiring(firing, event);
    }
    return enqueued;
  }

  private applyFiring(firing: Firing, event: StoredEvent | null): number {
    const key = firing.eventIds.length ? firing.eventIds[firing.eventIds.length - 1]! : `at:${firing.at}`;
    let enqueued = 0;
    firing.actions.forEach((action, index) => {
      const kind = actionKind(action as Record<string, unknown>);
      if (!IMMEDIATE.has(kind)) {
        const a = action as Record<string, unknown>;
        const lane = this.laneOf(a);
        // Started straight from this commit when the dispatcher has room, else pending for its next turn.
        const now = !!this.claimed && !!this.handoff?.claim(a, lane);
        if (this.store.outbox.add(firing.ruleId, key, index, a, now ? 'inflight' : 'pending', lane)) {
          enqueued++;
          if (now) {
            const at = Date.now();
            this.claimed!.push({ ruleId: firing.ruleId, eventId: key, actionIndex: index, action: a, status: 'inflight', attempts: 0, nextAttemptAt: at, lastError: null, lane, createdAt: new Date(at).toISOString(), doneAt: null });
          }
        } else if (now) this.handoff!.unclaim(lane);
        return;
      }
      try {
        if (kind === 'flag') {
          const f = (action as { flag: { set?: string; clear?: string; toggle?: string; for?: string } }).flag;
          const by = `rule:${firing.ruleId}`;
          if (f.set) this.flags.set(f.set, { for: f.for ?? null, by });
          else if (f.clear) this.flags.clear(f.clear, by);
          else if (f.toggle) this.flags.toggle(f.toggle, { for: f.for ?? null, by });
        } else if (kind === 'tag') {
          const add = (action as { tag: { add: string[] } }).tag.add;
          for (const id of firing.eventIds.length ? firing.eventIds : event ? [event.id] : []) {
            const tags = this.store.events.addTags(id, add);
            if (tags) this.onTagged(id, tags);
          }
        }
      } catch (err) {
        this.log.warn(`rule ${firing.ruleId}: ${kind} action failed: ${(err as Error).message}`);
      }
    });
    this.store.traces.add(firing.ruleId, firing.at, firing.eventIds, firing.trace);
    return enqueued;
  }

  /** A committed transaction's traces, written with the others kept within TRACE_WRITE_MS. */
  private keepTraces(traces: AddedTrace[]): void {
    if (!traces.length) return;
    this.store.traces.keep(traces);
    if (this.traceTimer || this.closed) return;
    this.traceTimer = setTimeout(() => this.writeTraces(), TRACE_WRITE_MS);
    this.traceTimer.unref?.();
  }

  private writeTraces(): void {
    this.traceTimer = null;
    try {
      this.store.traces.write();
    } catch (err) {
      // Kept for the next try (a full disk, a busy database); lists try too.
      this.log.warn(`rule traces could not be written, will retry: ${(err as Error).message}`);
      if (!this.closed) this.traceTimer = setTimeout(() => this.writeTraces(), 5 * TRACE_WRITE_MS);
      this.traceTimer?.unref?.();
    }
  }

  close(): void {
    this.closed = true;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    // What is kept and not written yet is written when the store closes.
    if (this.traceTimer) clearTimeout(this.traceTimer);
  }
}
