import type { Store, OutboxItem } from '../core/store/index.js';
import type { Logger } from '../core/log.js';
import { errorText } from '../core/monitor-host.js';
import { backoffDelay } from '../base/backoff.js';
import { actionKind } from './rule-processor.js';
import { idempotencyKey } from './idempotency.js';
import type { ActionExecutor } from '../core/action.js';
import type { ActionLaneInfo } from '../core/protocol.js';
import type { AfterCommit } from './event-writer.js';

// The executor contract lives in core/action.ts (monitor types provide executors too); re-exported for the engine.
export { permanentError, type ActionContext, type ActionExecutor } from '../core/action.js';

/** A lane's health as the UI shows it: the protocol's type, so the two cannot drift apart. */
export type LaneStatus = ActionLaneInfo;

export interface DispatcherOptions {
  /** First retry delay and its cap (the delay doubles per attempt, ±20% jitter). */
  retryBaseMs?: number;
  retryCapMs?: number;
  /** An action exhausted its attempts (or failed for good): it is now a dead letter. */
  onDeadLetter?(item: OutboxItem, error: string): void;
  /**
   * Every attempt's outcome, once it is recorded (the notification center keeps each channel send's fate from
   * these): done, a retry at `at`, or failed for good (then `onDeadLetter` follows). `attempts` counts this one.
   */
  onOutcome?(item: OutboxItem, outcome: ActionOutcome): void;
  /** A lane turned unhealthy or recovered. */
  onLaneHealth?(status: LaneStatus): void;
  /** A transaction that calls `recordFinished` is about to run (the event writer has events queued for its next commit). */
  commitPending?(): boolean;
}

/** Failed attempts in a row after which a destination counts as unhealthy. */
const UNHEALTHY_AFTER = 3;
/** Actions started per turn of the event loop: the dispatcher yields between slices, so acks are never held up. */
const SLICE = 128;
/** How long finished actions' fates wait for the event writer's next commit before they are written on their own. */
const FATES_WAIT_MS = 20;

interface Lane {
  name: string;
  running: number;
  /**
   * The lane's last look found every due row taken, and no pending row was added since: new actions may start
   * straight from the rules' commit (`claim`) without overtaking older ones, and a finished action need not look.
   */
  drained: boolean;
  timer: NodeJS.Timeout | null;
  consecutiveFailures: number;
  lastError: string | null;
  lastFailureAt: string | null;
  lastSuccessAt: string | null;
}

type Outcome = { kind: 'done' } | { kind: 'retry'; at: number; error: string } | { kind: 'failed'; error: string };

/** An attempt's outcome as reported to `onOutcome`. */
export type ActionOutcome = Outcome & { attempts: number };

/**
 * Runs outbox actions in lanes, one per destination, each with its own concurrency, attempt timeout and retries
 * with backoff and jitter: a slow or dead destination holds up only its own lane. The outbox table is the queue
 * (a lane reads its due rows when it has a free slot), so a backlog costs disk, not memory. Every state change is
 * written before the action starts (inflight) and after it ends, batched into one transaction per turn, so a crash
 * neither loses an action nor, for ones that are not retry-safe, repeats it. Work happens in small slices on
 * `setImmediate`, never on the path that stores and acknowledges events.
 */
export class OutboxDispatcher {
  private readonly lanes = new Map<string, Lane>();
  /** Lanes that may have due work and a free slot. */
  private readonly ready = new Set<string>();
  private readonly outcomes: { item: OutboxItem; lane: string; outcome: Outcome }[] = [];
  private readonly running = new Set<Promise<void>>();
  /** How to end each attempt under way (see runOne). */
  private readonly attempts = new Set<(reason: Error) => void>();
  private scheduled = false;
  private lookEverywhere = true;
  /** Armed while fates wait for the writer's commit (see turn); when it fires they are written on their own. */
  private fatesTimer: NodeJS.Timeout | null = null;
  private fatesDue = false;
  private readonly controller = new AbortController();
  private readonly retryBaseMs: number;
  private readonly retryCapMs: number;

  constructor(
    private readonly store: Store,
    private readonly executors: Map<string, ActionExecutor>,
    private readonly log: Logger,
    private readonly opts: DispatcherOptions = {},
  ) {
    this.retryBaseMs = opts.retryBaseMs ?? 5_000;
    this.retryCapMs = opts.retryCapMs ?? 30 * 60_000;
    store.outbox.assignLanes((a) => this.laneOf(a));
    const r = store.outbox.recoverInflight((a) => this.executors.get(actionKind(a))?.retrySafe ?? false);
    if (r.requeued || r.abandoned) log.info(`outbox after restart: ${r.requeued} retried, ${r.abandoned} not repeated`);
  }

  /** The lane an action runs in. */
  laneOf(action: Record<string, unknown>): string {
    const kind = actionKind(action);
    try {
      return this.executors.get(kind)?.destination?.(action) ?? kind;
    } catch {
      return kind;
    }
  }

  /** New rows were added (or a dead letter was retried): look for work soon, off the caller's stack. */
  wake(): void {
    if (this.controller.signal.aborted || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.turn());
  }

  /** Every lane that has run since start, with its health. */
  laneStatus(): LaneStatus[] {
    return [...this.lanes.values()].map((l) => this.statusOf(l));
  }

  private statusOf(l: Lane): LaneStatus {
    return {
      lane: l.name,
      healthy: l.consecutiveFailures < UNHEALTHY_AFTER,
      running: l.running,
      consecutiveFailures: l.consecutiveFailures,
      lastError: l.lastError,
      lastFailureAt: l.lastFailureAt,
      lastSuccessAt: l.lastSuccessAt,
    };
  }

  private lane(name: string): Lane {
    let l = this.lanes.get(name);
    if (!l) {
      l = { name, running: 0, drained: false, timer: null, consecutiveFailures: 0, lastError: null, lastFailureAt: null, lastSuccessAt: null };
      this.lanes.set(name, l);
    }
    return l;
  }

  private executorFor(laneName: string, item?: OutboxItem): ActionExecutor | undefined {
    return this.executors.get(item ? actionKind(item.action) : laneName.split(':')[0]!);
  }

  /** One turn: record what finished, then start what is due, at most SLICE actions; yield and go on if more. */
  private turn(): void {
    this.scheduled = false;
    if (this.controller.signal.aborted) return;
    const starts: { lane: Lane; item: OutboxItem }[] = [];
    const finished = this.outcomes.splice(0);
    try {
      for (const name of this.lookEverywhere ? this.store.outbox.pendingLanes() : []) this.ready.add(name);
      this.lookEverywhere = false;
      for (const name of this.store.outbox.takeTouchedLanes()) {
        this.ready.add(name);
        this.lane(name).drained = false;
      }
      // Nothing finished and no lane to look at (actions handed off by the rules' commit): no transaction at all. The
      // same when only fates are to be recorded and the event writer commits in this turn anyway: they go in its
      // transaction (`recordFinished`).
      if (!this.ready.size && (!finished.length || this.opts.commitPending?.())) {
        this.outcomes.unshift(...finished);
        // Queued after the writer's flush: records whatever that commit did not take (it failed, or stored nothing).
        if (finished.length) this.wake();
        return;
      }
      // Only fates, and no commit of the writer under way: while events keep coming one soon is, so they wait for it
      // (at most FATES_WAIT_MS) rather than commit on their own — that was one more commit per 29 events under a
      // stream of webhooks (#22), each writing the outbox's pages again. Only fates of retry-safe actions wait: if
      // the process dies first, such an action is found in flight and sent again with its key; one that is not
      // retry-safe would be reported as not repeated although it ran, so its fate is written straight away.
      if (!this.ready.size && !this.fatesDue && finished.every((f) => this.executorFor(f.lane, f.item)?.retrySafe)) {
        this.outcomes.unshift(...finished);
        if (!this.fatesTimer) {
          this.fatesTimer = setTimeout(() => {
            this.fatesTimer = null;
            this.fatesDue = true;
            this.wake();
          }, FATES_WAIT_MS);
          this.fatesTimer.unref?.(); // close() records whatever waits
        }
        return;
      }
      this.stopWaitingForCommit();

      const now = Date.now();
      // One transaction per turn: the fates of finished actions first (a retry's new due time counts when its lane
      // looks for work below), then the inflight marks of the actions about to start.
      this.lightly(() => {
        for (const f of finished) this.record(f.item, f.outcome);
        let budget = SLICE;
        for (const name of [...this.ready]) {
          if (budget <= 0) break;
          const lane = this.lane(name);
          const free = (this.executorFor(name)?.concurrency ?? 4) - lane.running;
          this.ready.delete(name);
          if (free <= 0) continue; // a finishing action puts the lane back
          const take = Math.min(free, budget);
          const items = this.store.outbox.laneDue(name, now, take);
          budget -= items.length;
          for (const item of items) {
            this.store.outbox.markInflight(item);
            starts.push({ lane, item });
            lane.running++;
          }
          if (items.length === take && take < free) this.ready.add(name); // the slice ran out, not the lane
          else if (items.length < take) {
            lane.drained = true;
            this.armLane(lane);
          }
        }
      });
    } catch (err) {
      // The transaction rolled back: nothing started, and what finished is recorded next time.
      for (const s of starts) s.lane.running--;
      this.outcomes.unshift(...finished);
      this.log.error(`outbox turn failed, trying again shortly: ${(err as Error).stack ?? err}`);
      this.lookEverywhere = true;
      setTimeout(() => this.wake(), 1_000).unref?.();
      return;
    }
    for (const s of starts) this.start(s.lane, s.item);
    this.recorded(finished);
    if (this.ready.size) this.wake();
  }

  /**
   * Record the fates of finished actions inside the caller's transaction (the event writer's, which commits anyway
   * while events come in): the turn then needs no transaction of its own for them. Returns what to do once that
   * transaction has committed (tell the listeners) or rolled back (the fates are recorded by a later turn).
   */
  recordFinished(): AfterCommit | null {
    if (!this.outcomes.length || this.controller.signal.aborted) return null;
    const finished = this.outcomes.splice(0);
    this.stopWaitingForCommit();
    try {
      // In a savepoint: should recording fail, the caller's own writes (the events) still commit.
      this.store.savepoint(() => {
        for (const f of finished) this.record(f.item, f.outcome);
      });
    } catch (err) {
      this.outcomes.unshift(...finished);
      this.log.warn(`outbox: recording finished actions with the events failed, the next turn records them: ${(err as Error).message}`);
      this.wake();
      return null;
    }
    return {
      committed: () => this.recorded(finished),
      rolledBack: () => {
        this.outcomes.unshift(...finished);
        this.wake();
      },
    };
  }

  /** Fates are being written now: the wait for the writer's commit (and its timer) ends. */
  private stopWaitingForCommit(): void {
    if (this.fatesTimer) clearTimeout(this.fatesTimer);
    this.fatesTimer = null;
    this.fatesDue = false;
  }

  /** After the commit that recorded them: tell `onOutcome` and `onDeadLetter`. */
  private recorded(finished: { item: OutboxItem; outcome: Outcome }[]): void {
    this.report(finished);
    for (const f of finished) {
      if (f.outcome.kind !== 'failed') continue;
      try {
        this.opts.onDeadLetter?.(f.item, f.outcome.error);
      } catch (err) {
        this.log.warn(`reporting a dead letter failed: ${(err as Error).message}`);
      }
    }
  }

  /**
   * The turn's transaction without waiting for the disk (`store.txDerived`): it is durable when the process dies
   * (SIGKILL, a crash), only the OS losing power can drop its last turns. Then retry-safe actions are sent again
   * with the same key, and a notification is not shown twice (its id is unique); waiting for the disk on every turn
   * would cap the lanes at a few hundred actions a second.
   */
  private lightly(fn: () => void): void {
    this.store.txDerived(fn);
  }

  /** Tell `onOutcome` what was just recorded (after the commit: a listener reads the outbox as it now is). */
  private report(finished: { item: OutboxItem; outcome: Outcome }[]): void {
    if (!this.opts.onOutcome) return;
    for (const f of finished) {
      try {
        this.opts.onOutcome(f.item, { ...f.outcome, attempts: f.item.attempts + 1 });
      } catch (err) {
        this.log.warn(`reporting an action's outcome failed: ${(err as Error).message}`);
      }
    }
  }

  private record(item: OutboxItem, o: Outcome): void {
    if (o.kind === 'done') this.store.outbox.markDone(item);
    else if (o.kind === 'retry') this.store.outbox.retryLater(item, o.at, o.error);
    else this.store.outbox.markFailed(item, o.error);
  }

  /** A lane with nothing due now looks again when its next retry comes due. */
  private armLane(lane: Lane): void {
    if (lane.timer) clearTimeout(lane.timer);
    lane.timer = null;
    const next = this.store.outbox.laneNextDue(lane.name);
    if (next === null) return;
    lane.timer = setTimeout(() => {
      lane.timer = null;
      this.ready.add(lane.name);
      this.wake();
    }, Math.max(10, Math.min(next - Date.now(), 2 ** 31 - 1)));
    lane.timer.unref?.();
  }

  /**
   * Hand-off from the rules' transaction (`RuleProcessor`): called while it adds an action's outbox row, says whether
   * the row may be written `inflight` and started as soon as that transaction commits, reserving a slot in the lane.
   * This spares the dispatcher's own read of the row and its inflight mark (a second transaction per event, #22).
   * Only retry-safe actions: an inflight row found after a crash is sent again (with the same idempotency key), as a
   * pending one would be; an action that is not retry-safe would instead be abandoned, so it goes through the turn.
   * Only when the lane is drained and has a free slot, so a new action never overtakes one already waiting.
   */
  claim(action: Record<string, unknown>, laneName: string): boolean {
    if (this.controller.signal.aborted) return false;
    const exec = this.executors.get(actionKind(action));
    if (!exec?.retrySafe) return false;
    const lane = this.lane(laneName);
    if (!lane.drained || lane.running >= (exec.concurrency ?? 4)) {
      lane.drained = false; // its row is added pending: the next turn takes it, in order
      return false;
    }
    lane.running++;
    return true;
  }

  /** A claim whose row was not added after all (it existed: a replay), or whose transaction rolled back. */
  unclaim(laneName: string): void {
    this.lane(laneName).running--;
  }

  /** After the commit: start what was claimed (rows already `inflight`, slots already counted). */
  startClaimed(items: OutboxItem[]): void {
    for (const item of items) {
      const lane = this.lane(item.lane);
      if (this.controller.signal.aborted) {
        lane.running--; // left inflight: the next start sends it again (retry-safe)
        continue;
      }
      this.start(lane, item);
    }
  }

  private start(lane: Lane, item: OutboxItem): void {
    const p = this.runOne(lane, item).finally(() => {
      this.running.delete(p);
      lane.running--;
      // A drained lane has nothing waiting for the freed slot: only its outcome needs recording (the wake below).
      if (!lane.drained) this.ready.add(lane.name);
      this.wake();
    });
    this.running.add(p);
  }

  private async runOne(lane: Lane, item: OutboxItem): Promise<void> {
    const kind = actionKind(item.action);
    const exec = this.executors.get(kind);
    let outcome: Outcome;
    if (!exec) {
      outcome = { kind: 'failed', error: `no "${kind}" action is available in this Panoptes` };
    } else {
      const timeoutMs = exec.timeoutMs ?? 60_000;
      const attempt = new AbortController();
      // Ends the attempt (the executor's signal aborts) and stops waiting for it: its time limit, or shutdown (close).
      // Called directly rather than through listeners on a shared shutdown signal: with 32 actions under way per
      // lane, adding and removing those listeners walked the signal's whole list on every action.
      let end!: (reason: Error) => void;
      const ended = new Promise<never>((_, reject) => {
        end = (reason) => {
          attempt.abort(reason);
          reject(reason);
        };
      });
      this.attempts.add(end);
      const timer = setTimeout(() => end(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      try {
        const ctx = { ruleId: item.ruleId, eventId: item.eventId, actionIndex: item.actionIndex, idempotencyKey: idempotencyKey(item.ruleId, item.eventId, item.actionIndex), signal: attempt.signal };
        await Promise.race([exec.run(item.action, ctx), ended]);
        outcome = { kind: 'done' };
      } catch (err) {
        // Shutting down mid-action: leave it in flight; the next start decides whether it may be repeated.
        if (this.controller.signal.aborted) return;
        const msg = errorText(err);
        const max = exec.maxAttempts ?? (exec.retrySafe ? 6 : 1);
        if (item.attempts + 1 < max && !(err as { permanent?: boolean }).permanent) {
          // A service that said when to come back (a 429's Retry-After) is not asked sooner.
          const retryAfter = Number((err as { retryAfterMs?: number | null }).retryAfterMs ?? 0) || 0;
          outcome = { kind: 'retry', at: Date.now() + Math.max(retryAfter, backoffDelay(item.attempts + 1, this.retryBaseMs, this.retryCapMs)), error: msg };
          this.log.warn(`${kind} action of rule ${item.ruleId} to ${lane.name} failed (attempt ${item.attempts + 1}/${max}), retrying: ${msg}`);
        } else {
          outcome = { kind: 'failed', error: msg };
          this.log.warn(`${kind} action of rule ${item.ruleId} to ${lane.name} failed for good after ${item.attempts + 1} attempt(s): ${msg}`);
        }
      } finally {
        clearTimeout(timer);
        this.attempts.delete(end);
      }
    }
    this.noteHealth(lane, outcome);
    // A retry is a pending row again once recorded: the lane looks after that turn (and arms its timer).
    if (outcome.kind === 'retry') lane.drained = false;
    this.outcomes.push({ item, lane: lane.name, outcome });
  }

  private noteHealth(lane: Lane, o: Outcome): void {
    const wasHealthy = lane.consecutiveFailures < UNHEALTHY_AFTER;
    const now = new Date().toISOString();
    if (o.kind === 'done') {
      lane.consecutiveFailures = 0;
      lane.lastSuccessAt = now;
    } else {
      lane.consecutiveFailures++;
      lane.lastError = o.error;
      lane.lastFailureAt = now;
    }
    const healthy = lane.consecutiveFailures < UNHEALTHY_AFTER;
    if (healthy !== wasHealthy) this.opts.onLaneHealth?.(this.statusOf(lane));
  }

  /** Stop taking actions; resolves when the ones under way have returned, with their fates recorded. */
  async close(): Promise<void> {
    this.controller.abort();
    for (const end of [...this.attempts]) end(new Error('shutting down'));
    for (const l of this.lanes.values()) if (l.timer) clearTimeout(l.timer);
    this.stopWaitingForCommit();
    await Promise.allSettled([...this.running]);
    const finished = this.outcomes.splice(0);
    try {
      this.store.tx(() => {
        for (const f of finished) this.record(f.item, f.outcome);
      });
      this.report(finished);
    } catch (err) {
      this.log.warn(`outbox: could not record ${finished.length} finished action(s) at shutdown: ${(err as Error).message}`);
    }
  }
}
