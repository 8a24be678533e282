import type { Db } from './database.js';

/** Named log positions (the rules engine's processing cursor, forwarders) plus an opaque state blob each. */
export class CursorStore {
  private readonly getStmt;
  private readonly setStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare(`SELECT seq, state FROM cursors WHERE name = ?`);
    this.setStmt = db.prepare(
      `INSERT INTO cursors (name, seq, state) VALUES (?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET seq = excluded.seq, state = COALESCE(excluded.state, cursors.state)`,
    );
  }

  get(name: string): { seq: number; state: unknown } {
    const row = this.getStmt.get(name) as { seq: number; state: string | null } | undefined;
    return { seq: row?.seq ?? 0, state: row?.state ? JSON.parse(row.state) : null };
  }

  set(name: string, seq: number, state?: unknown): void {
    this.setStmt.run(name, seq, state === undefined ? null : JSON.stringify(state));
  }
}
