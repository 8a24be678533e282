import type { Db } from './database.js';
import type { MonitorState } from '../monitor.js';

/** Per-monitor key/value state (seen ids, cursors, baselines). Values are JSON. */
export class MonitorStateStore {
  private readonly getStmt;
  private readonly setStmt;
  private readonly delStmt;
  private readonly clearStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare(`SELECT value FROM monitor_state WHERE monitor_id = ? AND key = ?`).pluck();
    this.setStmt = db.prepare(
      `INSERT INTO monitor_state (monitor_id, key, value) VALUES (?, ?, ?)
       ON CONFLICT(monitor_id, key) DO UPDATE SET value = excluded.value`,
    );
    this.delStmt = db.prepare(`DELETE FROM monitor_state WHERE monitor_id = ? AND key = ?`);
    this.clearStmt = db.prepare(`DELETE FROM monitor_state WHERE monitor_id = ?`);
  }

  forMonitor(monitorId: string): MonitorState {
    return {
      get: <T>(key: string) => {
        const v = this.getStmt.get(monitorId, key) as string | undefined;
        return v === undefined ? undefined : (JSON.parse(v) as T);
      },
      set: (key, value) => {
        this.setStmt.run(monitorId, key, JSON.stringify(value ?? null));
      },
      delete: (key) => {
        this.delStmt.run(monitorId, key);
      },
    };
  }

  clear(monitorId: string): void {
    this.clearStmt.run(monitorId);
  }
}

/** Throw-away state for dry runs: same interface, nothing persisted. */
export function memoryState(): MonitorState {
  const m = new Map<string, string>();
  return {
    get: <T>(k: string) => (m.has(k) ? (JSON.parse(m.get(k)!) as T) : undefined),
    set: (k, v) => void m.set(k, JSON.stringify(v ?? null)),
    delete: (k) => void m.delete(k),
  };
}
