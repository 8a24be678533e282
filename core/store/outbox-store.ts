import type { Db } from './database.js';

/** `failed` is a dead letter: it exhausted its attempts (or could never succeed) and waits for Retry or Discard. */
export type OutboxStatus = 'pending' | 'inflight' | 'done' | 'failed' | 'skipped' | 'discarded';

export interface OutboxKey {
  ruleId: string;
  eventId: string;
  actionIndex: number;
}

export interface OutboxItem extends OutboxKey {
  action: Record<string, unknown>;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  /** The destination's lane (`webhook:host:port`, `email:<account>`, `notify`, …); '' until assigned. */
  lane: string;
  createdAt: string;
  doneAt: string | null;
}

interface Row {
  rule_id: string;
  event_id: string;
  action_index: number;
  action: string;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  lane: string;
  created_at: string;
  done_at: string | null;
}

const KEY = 'rule_id = ? AND event_id = ? AND action_index = ?';

/**
 * Actions waiting to run, keyed by (rule, event, action index): enqueuing the same firing twice (a replay of
 * the log after a crash) is a no-op, so a restart never notifies twice. The table is also the lanes' queue:
 * each lane reads its own due rows, so what waits is on disk and memory stays flat however long the backlog.
 */
export class OutboxStore {
  private readonly addStmt;
  private readonly dueStmt;
  private readonly laneDueStmt;
  private readonly laneNextStmt;
  private readonly markStmt;
  private readonly retryStmt;
  private readonly nextDueStmt;
  private readonly pruneStmt;
  private readonly getStmt;
  /** Lanes that got new rows since the dispatcher last asked (so it need not scan for them). */
  private readonly touched = new Set<string>();

  /**
   * Removes up to 500 finished rows, oldest first (through `outbox_finished`): those that ended before the first date,
   * except dead letters, which wait for the user until the second (longer ago).
   */
  readonly pruneSql = `DELETE FROM outbox WHERE (rule_id, event_id, action_index) IN (SELECT rule_id, event_id, action_index FROM outbox
       WHERE done_at < ? AND (status IN ('done','skipped','discarded') OR (status = 'failed' AND done_at < ?)) ORDER BY done_at LIMIT 500)`;

  constructor(private readonly db: Db) {
    this.addStmt = db.prepare(
      `INSERT OR IGNORE INTO outbox (rule_id, event_id, action_index, action, status, created_at, next_attempt_at, lane)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.dueStmt = db.prepare(
      `SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY created_at, event_id, action_index LIMIT ?`,
    );
    this.laneDueStmt = db.prepare(
      `SELECT * FROM outbox WHERE lane = ? AND status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, created_at LIMIT ?`,
    );
    this.laneNextStmt = db.prepare(`SELECT MIN(next_attempt_at) FROM outbox WHERE lane = ? AND status = 'pending'`).pluck();
    this.markStmt = db.prepare(`UPDATE outbox SET status = ?, attempts = attempts + ?, last_error = ?, done_at = ? WHERE ${KEY}`);
    this.retryStmt = db.prepare(`UPDATE outbox SET status = 'pending', attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE ${KEY}`);
    this.nextDueStmt = db.prepare(`SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'`).pluck();
    this.pruneStmt = db.prepare(this.pruneSql);
    this.getStmt = db.prepare(`SELECT * FROM outbox WHERE ${KEY}`);
  }

  /** Call inside the caller's transaction (with the cursor advance) for exactly-once enqueueing. */
  add(ruleId: string, eventId: string, actionIndex: number, action: Record<string, unknown>, status: OutboxStatus = 'pending', lane = ''): boolean {
    const added = this.addStmt.run(ruleId, eventId, actionIndex, JSON.stringify(action), status, new Date().toISOString(), Date.now(), lane).changes === 1;
    if (added && status === 'pending') this.touched.add(lane);
    return added;
  }

  /** Lanes with new rows since the last call. */
  takeTouchedLanes(): string[] {
    const out = [...this.touched];
    this.touched.clear();
    return out;
  }

  /** Every lane with pending rows (a full look, for start-up and after a dead letter is retried). */
  pendingLanes(): string[] {
    return this.db.prepare(`SELECT DISTINCT lane FROM outbox WHERE status = 'pending'`).pluck().all() as string[];
  }

  due(now: number, limit = 100): OutboxItem[] {
    return (this.dueStmt.all(now, limit) as Row[]).map(toItem);
  }

  /** A lane's due rows, the longest-due first. */
  laneDue(lane: string, now: number, limit: number): OutboxItem[] {
    return (this.laneDueStmt.all(lane, now, limit) as Row[]).map(toItem);
  }

  laneNextDue(lane: string): number | null {
    return (this.laneNextStmt.get(lane) as number | null) ?? null;
  }

  nextDue(): number | null {
    return (this.nextDueStmt.get() as number | null) ?? null;
  }

  /** Rows written before lanes existed (or by an older version) get theirs on start-up. */
  assignLanes(laneOf: (action: Record<string, unknown>) => string): number {
    const rows = this.db.prepare(`SELECT * FROM outbox WHERE lane = '' AND status IN ('pending','inflight','failed')`).all() as Row[];
    const set = this.db.prepare(`UPDATE outbox SET lane = ? WHERE ${KEY}`);
    this.db.transaction(() => {
      for (const r of rows) set.run(laneOf(JSON.parse(r.action)), r.rule_id, r.event_id, r.action_index);
    })();
    return rows.length;
  }

  get(k: OutboxKey): OutboxItem | null {
    const r = this.getStmt.get(k.ruleId, k.eventId, k.actionIndex) as Row | undefined;
    return r ? toItem(r) : null;
  }

  markInflight(i: OutboxKey): void {
    this.markStmt.run('inflight', 0, null, null, i.ruleId, i.eventId, i.actionIndex);
  }

  markDone(i: OutboxKey): void {
    this.markStmt.run('done', 1, null, new Date().toISOString(), i.ruleId, i.eventId, i.actionIndex);
  }

  markFailed(i: OutboxKey, error: string): void {
    this.markStmt.run('failed', 1, error, new Date().toISOString(), i.ruleId, i.eventId, i.actionIndex);
  }

  retryLater(i: OutboxKey, at: number, error: string): void {
    this.retryStmt.run(at, error, i.ruleId, i.eventId, i.actionIndex);
  }

  /**
   * After a crash, actions left `inflight` may or may not have happened. Retry-safe ones (webhooks, mail) go
   * back to pending; the others are marked failed with a reason, never repeated (a restart never notifies twice).
   */
  recoverInflight(retrySafe: (action: Record<string, unknown>) => boolean): { requeued: number; abandoned: number } {
    const rows = (this.db.prepare(`SELECT * FROM outbox WHERE status = 'inflight'`).all() as Row[]).map(toItem);
    let requeued = 0;
    let abandoned = 0;
    this.db.transaction(() => {
      for (const row of rows) {
        if (retrySafe(row.action)) {
          this.retryLater(row, 0, 'interrupted by a restart; retried');
          requeued++;
        } else {
          this.markFailed(row, 'interrupted by a restart; not repeated');
          abandoned++;
        }
      }
    })();
    return { requeued, abandoned };
  }

  /** Dead letters, newest first (keyset: pass the last one's doneAt to page on). */
  deadLetters(limit = 100, before?: string): OutboxItem[] {
    const rows = before
      ? this.db.prepare(`SELECT * FROM outbox WHERE status = 'failed' AND done_at < ? ORDER BY done_at DESC LIMIT ?`).all(before, limit)
      : this.db.prepare(`SELECT * FROM outbox WHERE status = 'failed' ORDER BY done_at DESC LIMIT ?`).all(limit);
    return (rows as Row[]).map(toItem);
  }

  countDeadLetters(): number {
    return this.db.prepare(`SELECT COUNT(*) FROM outbox WHERE status = 'failed'`).pluck().get() as number;
  }

  /** A dead letter goes back to its lane with fresh attempts; false when it is not (or no longer) a dead letter. */
  retryDeadLetter(k: OutboxKey): boolean {
    const changed = this.db
      .prepare(`UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, done_at = NULL WHERE ${KEY} AND status = 'failed'`)
      .run(Date.now(), k.ruleId, k.eventId, k.actionIndex).changes === 1;
    if (changed) this.touched.add(this.get(k)?.lane ?? '');
    return changed;
  }

  discardDeadLetter(k: OutboxKey): boolean {
    return this.db.prepare(`UPDATE outbox SET status = 'discarded', done_at = ? WHERE ${KEY} AND status = 'failed'`).run(new Date().toISOString(), k.ruleId, k.eventId, k.actionIndex).changes === 1;
  }

  /** Up to 500 finished rows that ended before `olderThanIso` (dead letters: before the other date); how many went. */
  prune(olderThanIso: string, deadLettersOlderThanIso = olderThanIso): number {
    const outer = olderThanIso > deadLettersOlderThanIso ? olderThanIso : deadLettersOlderThanIso;
    return this.pruneStmt.run(outer, deadLettersOlderThanIso).changes;
  }

  list(limit = 100): OutboxItem[] {
    return (this.db.prepare(`SELECT * FROM outbox ORDER BY created_at DESC LIMIT ?`).all(limit) as Row[]).map(toItem);
  }
}

function toItem(r: Row): OutboxItem {
  return {
    ruleId: r.rule_id,
    eventId: r.event_id,
    actionIndex: r.action_index,
    action: JSON.parse(r.action),
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    lane: r.lane,
    createdAt: r.created_at,
    doneAt: r.done_at,
  };
}
