import type { Db } from './database.js';

/** What one batch changed in the rules' saved state: shapes written or deleted (null), held events added or let go. */
export interface RuleStateDelta {
  shapes: [rule: string, state: string | null][];
  putEvents: [rule: string, event: string, ref: string][];
  dropEvents: [rule: string, event: string][];
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

  constructor(private readonly db: Db) {
    this.allShapes = db.prepare(`SELECT rule, state FROM rule_states`);
    this.allEvents = db.prepare(`SELECT rule, event, ref FROM rule_state_events`);
    this.putShape = db.prepare(`INSERT INTO rule_states (rule, state) VALUES (?, ?) ON CONFLICT(rule) DO UPDATE SET state = excluded.state`);
    this.dropShape = db.prepare(`DELETE FROM rule_states WHERE rule = ?`);
    this.dropRuleEvents = db.prepare(`DELETE FROM rule_state_events WHERE rule = ?`);
    this.putEvent = db.prepare(`INSERT INTO rule_state_events (rule, event, ref) VALUES (?, ?, ?) ON CONFLICT(rule, event) DO UPDATE SET ref = excluded.ref`);
    this.dropEvent = db.prepare(`DELETE FROM rule_state_events WHERE rule = ? AND event = ?`);
  }

  load(): { shapes: Map<string, string>; events: Map<string, Map<string, string>> } {
    const shapes = new Map<string, string>();
    for (const r of this.allShapes.iterate() as Iterable<{ rule: string; state: string }>) shapes.set(r.rule, r.state);
    const events = new Map<string, Map<string, string>>();
    for (const r of this.allEvents.iterate() as Iterable<{ rule: string; event: string; ref: string }>) {
      let m = events.get(r.rule);
      if (!m) events.set(r.rule, (m = new Map()));
      m.set(r.event, r.ref);
    }
    return { shapes, events };
  }

  /** Call inside the batch's transaction. */
  apply(delta: RuleStateDelta): void {
    for (const [rule, state] of delta.shapes) {
      if (state === null) {
        this.dropShape.run(rule);
        this.dropRuleEvents.run(rule);
      } else this.putShape.run(rule, state);
    }
    for (const [rule, event] of delta.dropEvents) this.dropEvent.run(rule, event);
    for (const [rule, event, ref] of delta.putEvents) this.putEvent.run(rule, event, ref);
  }

  clear(): void {
    this.db.exec(`DELETE FROM rule_states; DELETE FROM rule_state_events;`);
  }
}
