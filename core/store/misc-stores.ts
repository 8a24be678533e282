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
 * The last N traces per rule, kept across restarts. A rule's older traces are deleted once per transaction that
 * added some (`trimAdded`), not after every insert: a batch of 500 firings of one rule runs one DELETE, not 500.
 */
export class TraceTable {
  private readonly insert;
  private readonly trim;
  /** Rules with traces added since the last trim. */
  private readonly added = new Set<string>();

  constructor(private readonly db: Db, public limitPerRule = 50) {
    this.insert = db.prepare(`INSERT INTO traces (rule_id, at, event_ids, trace) VALUES (?, ?, ?, ?)`);
    this.trim = db.prepare(`DELETE FROM traces WHERE rule_id = ? AND id <= (SELECT id FROM traces WHERE rule_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`);
  }

  /** Inside a transaction that calls `trimAdded()` before it commits. */
  add(ruleId: string, at: string, eventIds: string[], trace: unknown): void {
    this.insert.run(ruleId, at, JSON.stringify(eventIds), JSON.stringify(trace ?? null));
    this.added.add(ruleId);
  }

  /** Keep the last `limitPerRule` traces of each rule that got new ones (in the transaction that added them). */
  trimAdded(): void {
    for (const ruleId of this.added) this.trim.run(ruleId, ruleId, this.limitPerRule);
    this.added.clear();
  }

  list(ruleId?: string, limit = 50): { ruleId: string; at: string; eventIds: string[]; trace: unknown }[] {
    const rows = (ruleId
      ? this.db.prepare(`SELECT * FROM traces WHERE rule_id = ? ORDER BY id DESC LIMIT ?`).all(ruleId, limit)
      : this.db.prepare(`SELECT * FROM traces ORDER BY id DESC LIMIT ?`).all(limit)) as { rule_id: string; at: string; event_ids: string; trace: string }[];
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
