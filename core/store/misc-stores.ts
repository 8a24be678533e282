import { withoutWaitingForDisk, type Db } from './database.js';
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

/** A trace added in a transaction, kept once that transaction commits (see `TraceTable.takeAdded`). */
export interface AddedTrace {
  ruleId: string;
  at: string;
  eventIds: string[];
  trace: unknown;
}

/**
 * The last N traces per rule, kept across restarts. Traces are written behind, not with the firing: the rule processor
 * hands each committed transaction's traces to `keep`, and `write` stores what was kept, at most N per rule, then
 * trims each rule it wrote to its last N — about once a second, and before every list. A rule firing on every event
 * used to insert a row per firing, in the events' own commit, only to delete nearly all of them soon after (a few
 * log pages and statements per commit, 5–13 % of the agent's CPU per event on the peers bench's webhook job); now a
 * busy rule costs at most N rows a write. What a crash can lose is the traces of the last second: the firings
 * themselves (outbox rows, notification fates) commit with the events as before.
 */
export class TraceTable {
  private readonly insert;
  private readonly trim;
  /** Added in the transaction under way. */
  private added: AddedTrace[] = [];
  /** Kept and not written yet, in the order they fired (lists over all rules go by row id). */
  private unwritten: AddedTrace[] = [];
  /** Past this many, what a write would skip is dropped: bounded however long writing waits. */
  private compactAt = 1_024;

  constructor(private readonly db: Db, public limitPerRule = 50) {
    this.insert = db.prepare(`INSERT INTO traces (rule_id, at, event_ids, trace) VALUES (?, ?, ?, ?)`);
    this.trim = db.prepare(`DELETE FROM traces WHERE rule_id = ? AND id <= (SELECT id FROM traces WHERE rule_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`);
  }

  /** Inside a transaction: gathered until `takeAdded()`, whose result goes to `keep` once that transaction commits. */
  add(ruleId: string, at: string, eventIds: string[], trace: unknown): void {
    this.added.push({ ruleId, at, eventIds, trace });
  }

  /** The traces added since the last call (call it as the transaction ends: keep them if it commits, drop them if not). */
  takeAdded(): AddedTrace[] {
    const out = this.added;
    this.added = [];
    return out;
  }

  /** Traces of a committed transaction, to be written by the next `write`. */
  keep(traces: AddedTrace[]): void {
    for (const t of traces) this.unwritten.push(t);
    if (this.unwritten.length < this.compactAt) return;
    this.unwritten = this.newestPerRule();
    this.compactAt = Math.max(1_024, 2 * this.unwritten.length);
  }

  /** Writes the kept traces (each rule's newest N) and trims those rules to their last N, in one transaction not waited for on disk. */
  write(): void {
    if (!this.unwritten.length) return;
    const run = () => {
      const rows = this.newestPerRule();
      for (const t of rows) this.insert.run(t.ruleId, t.at, JSON.stringify(t.eventIds), JSON.stringify(t.trace ?? null));
      for (const ruleId of new Set(rows.map((t) => t.ruleId))) this.trim.run(ruleId, ruleId, this.limitPerRule);
      this.unwritten = [];
    };
    if (this.db.inTransaction) run();
    else withoutWaitingForDisk(this.db, () => this.db.transaction(run)());
  }

  /** The kept traces less those no list would show: each rule's newest N, still in the order they fired. */
  private newestPerRule(): AddedTrace[] {
    const seen = new Map<string, number>();
    const out: AddedTrace[] = [];
    for (let i = this.unwritten.length - 1; i >= 0; i--) {
      const t = this.unwritten[i]!;
      const n = seen.get(t.ruleId) ?? 0;
      if (n >= this.limitPerRule) continue;
      seen.set(t.ruleId, n + 1);
      out.push(t);
    }
    return out.reverse();
  }

  list(ruleId?: string, limit = 50): { ruleId: string; at: string; eventIds: string[]; trace: unknown }[] {
    this.write();
    type Row = { rule_id: string; at: string; event_ids: string; trace: string };
    let rows: Row[];
    if (ruleId) {
      rows = this.db.prepare(`SELECT * FROM traces WHERE rule_id = ? ORDER BY id DESC LIMIT ?`).all(ruleId, Math.min(limit, this.limitPerRule)) as Row[];
    } else {
      // Newest first over all rules, each rule's beyond its last N (a lowered N, not trimmed yet) left out.
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
