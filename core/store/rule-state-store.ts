import type { Db } from './database.js';

/** What one batch changed in the rules' saved state: shapes written or deleted (null), held events added or let go. */
export interface RuleStateDelta {
  shapes: [rule: string, state: string | null][];
  putEvents: [rule: string, event: string, ref: string][];
  dropEvents: [rule: string, event: string][];
  /**
   * Rows of rule_window_entries (migration 8) added, changed or let go: count windows' keys and entries, a digest's
   * events, each key of absences, after deadlines, sequences and throttles (rules/state-delta.ts). `ord` orders them.
   */
  putEntries: [rule: string, key: string, entry: string, ord: number, time: number, ref: string][];
  dropEntries: [rule: string, key: string, entry: string][];
}

/** One saved count-window entry: the window `key`, its id in the window (`entry`), order, time and held event id. */
export interface WindowEntryRow {
  key: string;
  entry: string;
  ord: number;
  time: number;
  ref: string;
}

/**
 * The rules' temporal state as rows: a shape per rule and a copy per event a rule holds (see migration 7). Written
 * in the processing batch's transaction, so the state always matches the cursor.
 */
export class RuleStateStore {
  private readonly allShapes;
  private readonly allEvents;
  private readonly putShape;
  private readonly dropShape;
  private readonly dropRuleEvents;
  private readonly putEvent;
  private readonly dropEvent;
  private readonly allEntries;
  private readonly putEntry;
  private readonly dropEntry;
  private readonly dropRuleEntries;

  constructor(private readonly db: Db) {
    this.allShapes = db.prepare(`SELECT rule, state FROM rule_states`);
    this.allEvents = db.prepare(`SELECT rule, event, ref FROM rule_state_events`);
    this.putShape = db.prepare(`INSERT INTO rule_states (rule, state) VALUES (?, ?) ON CONFLICT(rule) DO UPDATE SET state = excluded.state`);
    this.dropShape = db.prepare(`DELETE FROM rule_states WHERE rule = ?`);
    this.dropRuleEvents = db.prepare(`DELETE FROM rule_state_events WHERE rule = ?`);
    this.putEvent = db.prepare(`INSERT INTO rule_state_events (rule, event, ref) VALUES (?, ?, ?) ON CONFLICT(rule, event) DO UPDATE SET ref = excluded.ref`);
    this.dropEvent = db.prepare(`DELETE FROM rule_state_events WHERE rule = ? AND event = ?`);
    this.allEntries = db.prepare(`SELECT rule, key, entry, ord, time, ref FROM rule_window_entries ORDER BY ord`);
    this.putEntry = db.prepare(
      `INSERT INTO rule_window_entries (rule, key, entry, ord, time, ref) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(rule, key, entry) DO UPDATE SET ord = excluded.ord, time = excluded.time, ref = excluded.ref`,
    );
    this.dropEntry = db.prepare(`DELETE FROM rule_window_entries WHERE rule = ? AND key = ? AND entry = ?`);
    this.dropRuleEntries = db.prepare(`DELETE FROM rule_window_entries WHERE rule = ?`);
  }

  load(): { shapes: Map<string, string>; events: Map<string, Map<string, string>>; entries: Map<string, WindowEntryRow[]> } {
    const shapes = new Map<string, string>();
    for (const r of this.allShapes.iterate() as Iterable<{ rule: string; state: string }>) shapes.set(r.rule, r.state);
    const events = new Map<string, Map<string, string>>();
    for (const r of this.allEvents.iterate() as Iterable<{ rule: string; event: string; ref: string }>) {
      let m = events.get(r.rule);
      if (!m) events.set(r.rule, (m = new Map()));
      m.set(r.event, r.ref);
    }
    const entries = new Map<string, WindowEntryRow[]>();
    for (const r of this.allEntries.iterate() as Iterable<WindowEntryRow & { rule: string }>) {
      let l = entries.get(r.rule);
      if (!l) entries.set(r.rule, (l = []));
      l.push({ key: r.key, entry: r.entry, ord: r.ord, time: r.time, ref: r.ref });
    }
    return { shapes, events, entries };
  }

  /** Call inside the batch's transaction. */
  apply(delta: RuleStateDelta): void {
    for (const [rule, state] of delta.shapes) {
      if (state === null) {
        this.dropShape.run(rule);
        this.dropRuleEvents.run(rule);
        this.dropRuleEntries.run(rule);
      } else this.putShape.run(rule, state);
    }
    for (const [rule, event] of delta.dropEvents) this.dropEvent.run(rule, event);
    for (const [rule, event, ref] of delta.putEvents) this.putEvent.run(rule, event, ref);
    for (const [rule, key, entry] of delta.dropEntries) this.dropEntry.run(rule, key, entry);
    for (const [rule, key, entry, ord, time, ref] of delta.putEntries) this.putEntry.run(rule, key, entry, ord, time, ref);
  }

  clear(): void {
    this.db.exec(`DELETE FROM rule_states; DELETE FROM rule_state_events; DELETE FROM rule_window_entries;`);
  }
}
