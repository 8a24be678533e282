/**
 * The engine's temporal state saved incrementally. A snapshot (state-snapshot.ts) holds every event copy a rule's
 * windows keep; written whole per batch, a day-long window of 1,500 events rewrote megabytes for each new event. Here a
 * rule's snapshot is split into its shape (keys, times, counters, each held event as `{"$ref": id}`) and the event
 * copies, each saved once when first held and deleted when let go. Only shapes that changed are written again; a
 * shape costs a few dozen bytes per held event, its copies up to a few KB each (event-ref.ts).
 */
import type { RuleStateDelta } from '../core/store/index.js';
import type { EventRef } from './types.js';

const isRef = (v: object): v is EventRef => {
  const r = v as Partial<EventRef>;
  return typeof r.id === 'string' && typeof r.ts === 'string' && Array.isArray(r.tags) && 'fields' in r && 'title' in r;
};

/** `v` with every event copy replaced by `{ $ref: id }`, the copies collected in `found` (per id, the first). */
function shapeOf(v: unknown, found: Map<string, EventRef>): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => shapeOf(x, found));
  if (isRef(v)) {
    if (!found.has(v.id)) found.set(v.id, v);
    return { $ref: v.id };
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = shapeOf(x, found);
  return out;
}

function expand(v: unknown, refs: Map<string, EventRef>): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => expand(x, refs));
  const o = v as Record<string, unknown>;
  if (typeof o.$ref === 'string' && Object.keys(o).length === 1) {
    // A copy that is missing (it cannot be, as both commit together) keeps the window's count right with an empty one.
    return refs.get(o.$ref) ?? { id: o.$ref, ts: new Date(0).toISOString(), source: '', type: '', title: '', body: '', url: null, fields: {}, tags: [] };
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = expand(x, refs);
  return out;
}

/** What has been saved, to tell each batch what it changed. One per processor, in step with the database. */
export class SavedRuleStates {
  private shapes = new Map<string, string>();
  private held = new Map<string, Set<string>>();

  /** Rows as loaded → the snapshot `RuleEngine.restore` takes; remembered as saved. */
  load(rows: { shapes: Map<string, string>; events: Map<string, Map<string, string>> }): unknown {
    const rules: Record<string, unknown> = {};
    this.shapes = new Map(rows.shapes);
    this.held = new Map();
    for (const [rule, shape] of rows.shapes) {
      const refs = new Map<string, EventRef>();
      const saved = rows.events.get(rule) ?? new Map<string, string>();
      for (const [id, json] of saved) {
        try {
          refs.set(id, JSON.parse(json) as EventRef);
        } catch {
          // A damaged copy: the placeholder stands in for it.
        }
      }
      this.held.set(rule, new Set(saved.keys()));
      try {
        rules[rule] = expand(JSON.parse(shape), refs);
      } catch {
        // A damaged shape loses only that rule's temporal state (its rows are replaced on the next batch).
      }
    }
    // Copies of rules without a shape are let go on the next batch.
    for (const [rule, saved] of rows.events) if (!rows.shapes.has(rule)) this.held.set(rule, new Set(saved.keys()));
    return { version: 1, rules };
  }

  /** What writing `snapshot` (RuleEngine.snapshot()) changes; `accept` it once its transaction committed. */
  diff(snapshot: unknown): RuleStateDelta {
    const delta: RuleStateDelta = { shapes: [], putEvents: [], dropEvents: [] };
    const rules = ((snapshot as { rules?: Record<string, unknown> } | null)?.rules ?? {}) as Record<string, unknown>;
    for (const [rule, st] of Object.entries(rules)) {
      const found = new Map<string, EventRef>();
      const shape = JSON.stringify(shapeOf(st, found));
      if (this.shapes.get(rule) !== shape) delta.shapes.push([rule, shape]);
      const saved = this.held.get(rule);
      for (const [id, ref] of found) if (!saved?.has(id)) delta.putEvents.push([rule, id, JSON.stringify(ref)]);
      if (saved) for (const id of saved) if (!found.has(id)) delta.dropEvents.push([rule, id]);
    }
    for (const rule of new Set([...this.shapes.keys(), ...this.held.keys()])) {
      if (!Object.prototype.hasOwnProperty.call(rules, rule)) delta.shapes.push([rule, null]);
    }
    return delta;
  }

  accept(delta: RuleStateDelta): void {
    for (const [rule, shape] of delta.shapes) {
      if (shape === null) {
        this.shapes.delete(rule);
        this.held.delete(rule);
      } else this.shapes.set(rule, shape);
    }
    for (const [rule, id] of delta.dropEvents) this.held.get(rule)?.delete(id);
    for (const [rule, id] of delta.putEvents) {
      let s = this.held.get(rule);
      if (!s) this.held.set(rule, (s = new Set()));
      s.add(id);
    }
  }

  /** Nothing saved (the tables are being cleared). */
  reset(): void {
    this.shapes.clear();
    this.held.clear();
  }
}
