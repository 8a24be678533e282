import type { Db } from './database.js';
import type { FlagState } from '../protocol.js';

/** Context flags as rows: a flag is set while its row exists (and has not expired). */
export class FlagTable {
  constructor(private readonly db: Db) {}

  all(): FlagState[] {
    return (this.db.prepare(`SELECT * FROM flags ORDER BY name`).all() as { name: string; set_at: string; expires_at: string | null; set_by: string | null }[]).map(
      (r) => ({ name: r.name, value: true, setAt: r.set_at, expiresAt: r.expires_at, setBy: r.set_by }),
    );
  }

  upsert(f: FlagState): void {
    this.db
      .prepare(
        `INSERT INTO flags (name, set_at, expires_at, set_by) VALUES (?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET set_at = excluded.set_at, expires_at = excluded.expires_at, set_by = excluded.set_by`,
      )
      .run(f.name, f.setAt, f.expiresAt, f.setBy);
  }

  remove(name: string): boolean {
    return this.db.prepare(`DELETE FROM flags WHERE name = ?`).run(name).changes === 1;
  }
}

/**
 * The last N traces per rule, kept across restarts. A rule's older traces are deleted in steps: once it has
 * TRIM_EVERY more than its N (in the transaction that added the last of them), not after every insert or batch — each
 * delete rewrote the table's and its index's oldest pages in the batch's commit, for a rule firing on every event two
 * more log pages per commit. Lists show no more than N per rule either way.
 */
const TRIM_EVERY = 16;

export class TraceTable {
  private readonly insert;
  private readonly trim;
  /** Traces added per rule since its last trim (unknown after a start: the first add makes the rule due). */
  private readonly sinceTrim = new Map<string, number>();
  /** Rules TRIM_EVERY past their last trim, trimmed by `trimAdded` in the transaction that made them so. */
  private readonly due = new Set<string>();

  constructor(private readonly db: Db, public limitPerRule = 50) {
    this.insert = db.prepare(`INSERT INTO traces (rule_id, at, event_ids, trace) VALUES (?, ?, ?, ?)`);
    this.trim = db.prepare(`DELETE FROM traces WHERE rule_id = ? AND id <= (SELECT id FROM traces WHERE rule_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`);
  }

  /** Inside a transaction that calls `trimAdded()` before it commits. */
  add(ruleId: string, at: string, eventIds: string[], trace: unknown): void {
    this.insert.run(ruleId, at, JSON.stringify(eventIds), JSON.stringify(trace ?? null));
    const n = (this.sinceTrim.get(ruleId) ?? TRIM_EVERY - 1) + 1;
    this.sinceTrim.set(ruleId, n);
    if (n >= TRIM_EVERY) this.due.add(ruleId);
  }

  /** Keep the last `limitPerRule` traces of the rules that came due in this transaction. */
  trimAdded(): void {
    for (const ruleId of this.due) {
      this.trim.run(ruleId, ruleId, this.limitPerRule);
      this.sinceTrim.set(ruleId, 0);
    }
    this.due.clear();
  }

  list(ruleId?: string, limit = 50): { ruleId: string; at: string; eventIds: string[]; trace: unknown }[] {
    type Row = { rule_id: string; at: string; event_ids: string; trace: string };
    let rows: Row[];
    if (ruleId) {
      rows = this.db.prepare(`SELECT * FROM traces WHERE rule_id = ? ORDER BY id DESC LIMIT ?`).all(ruleId, Math.min(limit, this.limitPerRule)) as Row[];
    } else {
      // Newest first over all rules, each rule's beyond its last N (not trimmed yet) left out.
      const per = new Map<string, number>();
      rows = [];
      for (const r of this.db.prepare(`SELECT * FROM traces ORDER BY id DESC`).iterate() as IterableIterator<Row>) {
        const n = (per.get(r.rule_id) ?? 0) + 1;
        per.set(r.rule_id, n);
        if (n <= this.limitPerRule) rows.push(r);
        if (rows.length >= limit) break;
      }
    }
    return rows.map((r) => ({ ruleId: r.rule_id, at: r.at, eventIds: JSON.parse(r.event_ids), trace: JSON.parse(r.trace) }));
  }
}

/** Small JSON values (settings that live with the data, the agent id). */
export class KvTable {
  constructor(private readonly db: Db) {}

  get<T>(key: string): T | undefined {
    const v = this.db.prepare(`SELECT value FROM kv WHERE key = ?`).pluck().get(key) as string | undefined;
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }

  set(key: string, value: unknown): void {
    this.db.prepare(`INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(key, JSON.stringify(value));
  }
}
