import type { Db } from './database.js';

export type OutboxStatus = 'pending' | 'inflight' | 'done' | 'failed' | 'skipped';

export interface OutboxItem {
  ruleId: string;
  eventId: string;
  actionIndex: number;
  action: Record<string, unknown>;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
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
}

/**
 * Actions waiting to run, keyed by (rule, event, action index): enqueuing the same firing twice (a replay of
 * the log after a crash) is a no-op, so a restart never notifies twice.
 */
export class OutboxStore {
  private readonly addStmt;
  private readonly dueStmt;
  private readonly markStmt;
  private readonly retryStmt;
  private readonly nextDueStmt;
  private readonly pruneStmt;

  constructor(private readonly db: Db) {
    this.addStmt = db.prepare(
      `INSERT OR IGNORE INTO outbox (rule_id, event_id, action_index, action, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.dueStmt = db.prepare(
      `SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY created_at, event_id, action_index LIMIT ?`,
    );
    this.markStmt = db.prepare(
      `UPDATE outbox SET status = ?, attempts = attempts + ?, last_error = ?, done_at = ? WHERE rule_id = ? AND event_id = ? AND action_index = ?`,
    );
    this.retryStmt = db.prepare(
      `UPDATE outbox SET status = 'pending', attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE rule_id = ? AND event_id = ? AND action_index = ?`,
    );
    this.nextDueStmt = db.prepare(`SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'`).pluck();
    this.pruneStmt = db.prepare(`DELETE FROM outbox WHERE (rule_id, event_id, action_index) IN (SELECT rule_id, event_id, action_index FROM outbox WHERE status IN ('done','failed','skipped') AND done_at < ? LIMIT 500)`);
  }

  /** Call inside the caller's transaction (with the cursor advance) for exactly-once enqueueing. */
  add(ruleId: string, eventId: string, actionIndex: number, action: Record<string, unknown>, status: OutboxStatus = 'pending'): boolean {
    return this.addStmt.run(ruleId, eventId, actionIndex, JSON.stringify(action), status, new Date().toISOString()).changes === 1;
  }

  due(now: number, limit = 100): OutboxItem[] {
    return (this.dueStmt.all(now, limit) as Row[]).map(toItem);
  }

  nextDue(): number | null {
    return (this.nextDueStmt.get() as number | null) ?? null;
  }

  markInflight(i: OutboxItem): void {
    this.markStmt.run('inflight', 0, null, null, i.ruleId, i.eventId, i.actionIndex);
  }

  markDone(i: OutboxItem): void {
    this.markStmt.run('done', 1, null, new Date().toISOString(), i.ruleId, i.eventId, i.actionIndex);
  }

  markFailed(i: OutboxItem, error: string): void {
    this.markStmt.run('failed', 1, error, new Date().toISOString(), i.ruleId, i.eventId, i.actionIndex);
  }

  retryLater(i: OutboxItem, at: number, error: string): void {
    this.retryStmt.run(at, error, i.ruleId, i.eventId, i.actionIndex);
  }

  /**
   * After a crash, actions left `inflight` may or may not have happened. Retry-safe ones (webhooks, mail) go
   * back to pending; the others are marked failed with a reason, never repeated (a restart never notifies twice).
   */
  recoverInflight(retrySafe: (action: Record<string, unknown>) => boolean): { requeued: number; abandoned: number } {
    const rows = this.db.prepare(`SELECT * FROM outbox WHERE status = 'inflight'`).all() as Row[];
    let requeued = 0;
    let abandoned = 0;
    for (const row of rows.map(toItem)) {
      if (retrySafe(row.action)) {
        this.retryLater(row, 0, 'interrupted by a restart; retried');
        requeued++;
      } else {
        this.markFailed(row, 'interrupted by a restart; not repeated');
        abandoned++;
      }
    }
    return { requeued, abandoned };
  }

  prune(olderThanIso: string): number {
    return this.pruneStmt.run(olderThanIso).changes;
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
  };
}
