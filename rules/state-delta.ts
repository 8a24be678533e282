/**
 * The engine's temporal state saved incrementally. A snapshot (state-snapshot.ts) holds every event copy a rule's
 * windows keep; written whole per batch, a day-long window of 1,500 events rewrote megabytes for each new event. Here a
 * rule's snapshot is split into its shape (keys, times, counters, each held event as `{"$ref": id}`) and the event
 * copies, each saved once when first held and deleted when let go. Only shapes that changed are written again; a
 * shape costs a few dozen bytes per held event, its copies up to a few KB each (event-ref.ts).
 *
 * Count windows (the ones that hold thousands: `count: 10000 within 1d`) keep their entries out of the shape: one row
 * per entry (window key, event id, time, order; migration 8), so one event into a window of 9,000 writes that entry,
 * not the 9,000 times and ids again. The same rows hold, per rule:
 * - each window key itself (entry ''), its `ord` the key's order: a key that comes or goes writes its one row, not
 *   the list of thousands of keys (the shape says `windowRows: 2`; `windowRows: 1`, migration 8's form, kept the key
 *   list in the shape);
 * - a digest's gathered events (key '', entry "\u0000<deadline>:<position>"; the shape's digest says `eventRows`),
 *   so an event joining a digest of 199 writes one row, not the 199 again;
 * - each key of the rule's other keyed state — absences, `after` deadlines, sequences' partial runs, throttles — as
 *   one row (key, entry "\u0001<kind>", what the key holds as JSON in `ref`, its order in `ord`; the shape says
 *   `keyRows: 1`), so an event to one of 3,000 keys rewrites that key's row, not the 3,000.
 * A row's `ord` keeps its key's place: a key let go and set again in one batch (it moved to the end of its map) gets
 * a new one.
 * Shapes saved before (entries, keys or digest events inline) still load, and are rewritten in the new form, what
 * they held inline as rows, on the next batch.
 */
import type { RuleStateDelta, WindowEntryRow } from '../core/store/index.js';
import type { EventRef } from './types.js';

const isRef = (v: object): v is EventRef => {
  const r = v as Partial<EventRef>;
  return typeof r.id === 'string' && typeof r.ts === 'string' && Array.isArray(r.tags) && 'fields' in r && 'title' in r;
};

/** The engine's snapshot of a rule that holds nothing (state-snapshot.ts: these eight keys, empty lists, no digest). */
const BLANK_LISTS = ['windows', 'absences', 'after', 'seqs', 'throttle'] as const;
function isBlank(o: Record<string, unknown>): boolean {
  if (o.digest !== null || Object.keys(o).length !== 8 || !('sig' in o) || !('enabledAt' in o)) return false;
  for (const k of BLANK_LISTS) {
    const list = o[k];
    if (!Array.isArray(list) || list.length !== 0) return false;
  }
  return true;
}

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

type Window = { times: number[]; events: unknown[] };
type Entry = { key: string; entry: string; time: number; ref: string };
const entryId = (key: string, entry: string) => `${key}\u0000${entry}`;
/** The row that stands for a window key itself (event ids are never empty). */
const KEY_ROW = '';
/** Digest rows' entries start with this (event ids never do); their key is ''. */
const DIGEST_ROW = '\u0000';
const isDigestRow = (entry: string) => entry.startsWith(DIGEST_ROW);
/** Keyed state's rows: entry "\u0001<kind>" (event ids never start so), key the state's own key. */
const KEYED = ['absences', 'after', 'seqs', 'throttle'] as const;
const KEYED_ROW = '\u0001';
const isKeyedRow = (entry: string) => entry.startsWith(KEYED_ROW);
type KeyedRow = { key: string; entry: string; value: string };
/** A row as saved: its order, and for keyed state what it holds (its `ref`). */
type SavedRow = { key: string; entry: string; ord: number; value: string };
type Digest = { deadline: number; count: number; events: unknown[]; dropped?: number };

/**
 * A digest's events as rows (in order), or null when there is no digest or it cannot be (an event that is no copy):
 * then it stays inline in the shape. An event's row is named by the digest's deadline and its position since the
 * digest opened, so the same event gathered twice makes two rows and letting go of the oldest renames nothing.
 */
function digestEntries(digest: unknown, found: Map<string, EventRef>): Map<string, Entry> | null {
  const d = digest as Partial<Digest> | null;
  if (!d || typeof d !== 'object' || !Array.isArray(d.events) || typeof d.deadline !== 'number') return null;
  const first = typeof d.dropped === 'number' ? d.dropped : 0;
  const out = new Map<string, Entry>();
  for (let i = 0; i < d.events.length; i++) {
    const ev = d.events[i];
    if (ev === null || typeof ev !== 'object' || !isRef(ev)) return null;
    if (!found.has(ev.id)) found.set(ev.id, ev);
    const entry = `${DIGEST_ROW}${d.deadline}:${first + i}`;
    out.set(entryId('', entry), { key: '', entry, time: first + i, ref: ev.id });
  }
  return out;
}

/**
 * A rule's count windows as entries (in window order), or null when they cannot be (not the engine's form, or an
 * event that is no copy): such a rule keeps its windows inline in the shape.
 */
function windowEntries(windows: unknown, found: Map<string, EventRef>): Map<string, Entry> | null {
  if (!Array.isArray(windows)) return null;
  const out = new Map<string, Entry>();
  for (const pair of windows as unknown[]) {
    if (!Array.isArray(pair) || typeof pair[0] !== 'string') return null;
    const key = pair[0];
    const w = pair[1] as Partial<Window> | null;
    if (!w || !Array.isArray(w.times) || !Array.isArray(w.events) || w.times.length !== w.events.length) return null;
    out.set(entryId(key, KEY_ROW), { key, entry: KEY_ROW, time: 0, ref: '' });
    const seen = new Map<string, number>();
    for (let i = 0; i < w.times.length; i++) {
      const ev = w.events[i];
      const t = w.times[i];
      if (typeof t !== 'number' || !Number.isFinite(t) || ev === null || typeof ev !== 'object' || !isRef(ev)) return null;
      // The same event twice in a window (it is not processed twice, but the rows must not collide if it were).
      const dup = seen.get(ev.id) ?? 0;
      seen.set(ev.id, dup + 1);
      const entry = dup ? `${ev.id}#${dup}` : ev.id;
      if (!found.has(ev.id)) found.set(ev.id, ev);
      out.set(entryId(key, entry), { key, entry, time: t, ref: ev.id });
    }
  }
  return out;
}

/**
 * The rule's keyed state (absences, after, sequences, throttles), per kind its rows in map order, each key's value
 * with its events as `{ $ref }` (the copies collected in `found`); null when it is not the engine's form (then all of
 * it stays inline in the shape).
 */
function keyedEntries(o: Record<string, unknown>, found: Map<string, EventRef>): Map<string, KeyedRow>[] | null {
  const out: Map<string, KeyedRow>[] = [];
  for (const kind of KEYED) {
    const pairs = o[kind];
    if (!Array.isArray(pairs)) return null;
    const entry = KEYED_ROW + kind;
    const rows = new Map<string, KeyedRow>();
    for (const pair of pairs as unknown[]) {
      if (!Array.isArray(pair) || typeof pair[0] !== 'string' || pair[1] === undefined) return null;
      rows.set(entryId(pair[0], entry), { key: pair[0], entry, value: JSON.stringify(shapeOf(pair[1], found)) });
    }
    out.push(rows);
  }
  return out;
}

/** What has been saved, to tell each batch what it changed. One per processor, in step with the database. */
export class SavedRuleStates {
  private shapes = new Map<string, string>();
  private held = new Map<string, Set<string>>();
  /** Per rule, the rows saved in rule_window_entries (by `entryId`). */
  private entries = new Map<string, Map<string, SavedRow>>();
  private nextOrd = 1;
  /**
   * Rule states serialised and compared with the saved ones so far: what a save costs in CPU follows this (tests and
   * the benchmark read it).
   */
  compared = 0;

  /** Rows as loaded → the snapshot `RuleEngine.restore` takes; remembered as saved. */
  load(rows: { shapes: Map<string, string>; events: Map<string, Map<string, string>>; entries?: Map<string, WindowEntryRow[]> }): unknown {
    const rules: Record<string, unknown> = {};
    this.shapes = new Map(rows.shapes);
    this.held = new Map();
    this.entries = new Map();
    this.nextOrd = 1;
    for (const [rule, list] of rows.entries ?? []) {
      this.entries.set(rule, new Map(list.map((e) => [entryId(e.key, e.entry), { key: e.key, entry: e.entry, ord: e.ord, value: e.ref }])));
      for (const e of list) this.nextOrd = Math.max(this.nextOrd, e.ord + 1);
    }
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
        const parsed = JSON.parse(shape) as Record<string, unknown>;
        const ruleRows = rows.entries?.get(rule) ?? [];
        if (parsed.windowRows) {
          // The windows' keys and entries come from their rows (ordered by `ord`); migration 8's keys from the shape.
          const byKey = new Map<string, Window>();
          const keyed = parsed.windowRows === 2;
          if (keyed) {
            for (const e of ruleRows) if (e.entry === KEY_ROW) byKey.set(e.key, { times: [], events: [] });
          } else {
            for (const [k] of parsed.windows as [string, unknown][]) byKey.set(k, { times: [], events: [] });
          }
          for (const e of ruleRows) {
            if (e.entry === KEY_ROW || isDigestRow(e.entry) || isKeyedRow(e.entry)) continue;
            let w = byKey.get(e.key);
            if (!w) {
              if (!keyed) continue;
              byKey.set(e.key, (w = { times: [], events: [] }));
            }
            w.times.push(e.time);
            w.events.push({ $ref: e.ref });
          }
          parsed.windows = [...byKey];
          delete parsed.windowRows;
        }
        if (parsed.keyRows) {
          for (const kind of KEYED) {
            const entry = KEYED_ROW + kind;
            parsed[kind] = ruleRows.filter((e) => e.entry === entry).map((e) => [e.key, JSON.parse(e.ref) as unknown]);
          }
          delete parsed.keyRows;
        }
        const digest = parsed.digest as Record<string, unknown> | null;
        if (digest && digest.eventRows) {
          const events = ruleRows.filter((e) => isDigestRow(e.entry)).map((e) => ({ $ref: e.ref }));
          parsed.digest = Object.fromEntries(Object.entries(digest).map(([n, v]) => (n === 'eventRows' ? ['events', events] : [n, v])));
        }
        rules[rule] = expand(parsed, refs);
      } catch {
        // A damaged shape loses only that rule's temporal state (its rows are replaced on the next batch).
      }
    }
    // Copies of rules without a shape are let go on the next batch.
    for (const [rule, saved] of rows.events) if (!rows.shapes.has(rule)) this.held.set(rule, new Set(saved.keys()));
    return { version: 1, rules };
  }

  /**
   * Per rule, the shape of its blank state (nothing held: no windows, keys, throttle or digest) and what it was made
   * from. Most rules hold nothing most of the time, and their shape is then the same batch after batch: computing it
   * anew for each of 1,000 rules on every batch was most of the processor's time on the peers bench.
   */
  private blankShapes = new Map<string, { sig: unknown; enabledAt: unknown; shape: string }>();

  /** What writing `snapshot` (RuleEngine.snapshot(), every rule) changes; `accept` it once its transaction committed. */
  diff(snapshot: unknown): RuleStateDelta {
    const delta: RuleStateDelta = { shapes: [], putEvents: [], dropEvents: [], putEntries: [], dropEntries: [] };
    const rules = ((snapshot as { rules?: Record<string, unknown> } | null)?.rules ?? {}) as Record<string, unknown>;
    for (const rule in rules) this.diffRule(rule, rules[rule], delta);
    const gone = new Set<string>();
    for (const saved of [this.shapes, this.held, this.entries]) {
      for (const rule of saved.keys()) if (!Object.prototype.hasOwnProperty.call(rules, rule)) gone.add(rule);
    }
    for (const rule of gone) {
      delta.shapes.push([rule, null]);
      this.blankShapes.delete(rule);
    }
    return delta;
  }

  /**
   * What writing the states of some rules changes (RuleEngine.snapshotOf: the rules a batch changed; null for a rule
   * without a state now, whose saved state goes); the other rules' saved states stay as they are.
   */
  diffSome(states: Map<string, unknown | null>): RuleStateDelta {
    const delta: RuleStateDelta = { shapes: [], putEvents: [], dropEvents: [], putEntries: [], dropEntries: [] };
    for (const [rule, st] of states) {
      if (st !== null) this.diffRule(rule, st, delta);
      else {
        this.blankShapes.delete(rule);
        if (this.shapes.has(rule) || this.held.has(rule) || this.entries.has(rule)) delta.shapes.push([rule, null]);
      }
    }
    return delta;
  }

  private diffRule(rule: string, st: unknown, delta: RuleStateDelta): void {
    this.compared++;
    const o = st !== null && typeof st === 'object' && !Array.isArray(st) ? (st as Record<string, unknown>) : null;
    if (o && isBlank(o)) {
      let blank = this.blankShapes.get(rule);
      if (!blank || blank.sig !== o.sig || blank.enabledAt !== o.enabledAt) {
        blank = { sig: o.sig, enabledAt: o.enabledAt, shape: JSON.stringify(shapeOf({ ...o, windows: [], windowRows: 2 }, new Map())) };
        this.blankShapes.set(rule, blank);
      }
      if (this.shapes.get(rule) !== blank.shape) delta.shapes.push([rule, blank.shape]);
      // What it held before (window rows, event copies) is let go.
      const savedEntries = this.entries.get(rule);
      if (savedEntries) for (const { key, entry } of savedEntries.values()) delta.dropEntries.push([rule, key, entry]);
      const saved = this.held.get(rule);
      if (saved) for (const id of saved) delta.dropEvents.push([rule, id]);
      return;
    }
    const found = new Map<string, EventRef>();
    const entries = o ? windowEntries(o.windows, found) : null;
    const digestRows = o ? digestEntries(o.digest, found) : null;
    const keyed = o ? keyedEntries(o, found) : null;
    let kept: unknown = st;
    if (entries || digestRows || keyed) {
      const k: Record<string, unknown> = { ...o };
      if (entries) {
        k.windows = [];
        k.windowRows = 2;
      }
      if (keyed) {
        for (const kind of KEYED) k[kind] = [];
        k.keyRows = 1;
      }
      if (digestRows) {
        // `eventRows` in the place of `events`, so the digest comes back with its keys in the same order.
        k.digest = Object.fromEntries(Object.entries(o!.digest as Digest).map(([n, v]) => (n === 'events' ? ['eventRows', 1] : [n, v])));
      }
      kept = k;
    }
    const shape = JSON.stringify(shapeOf(kept, found));
    if (this.shapes.get(rule) !== shape) delta.shapes.push([rule, shape]);
    const savedEntries = this.entries.get(rule);
    // New entries are the newest (windows and digests only push at the end; a new key comes last), so growing `ord`
    // keeps their order.
    let lastKey = 0;
    for (const rowsNow of [entries, digestRows]) {
      if (!rowsNow) continue;
      for (const [id, e] of rowsNow) {
        const was = savedEntries?.get(id);
        if (!was) delta.putEntries.push([rule, e.key, e.entry, this.nextOrd++, e.time, e.ref]);
        else if (e.entry === KEY_ROW && rowsNow === entries) {
          // A window key let go and opened again in one batch has moved to the end of the windows: a new place.
          if (was.ord < lastKey) delta.putEntries.push([rule, e.key, e.entry, (lastKey = this.nextOrd++), e.time, e.ref]);
          else lastKey = was.ord;
        }
      }
    }
    for (const rows of keyed ?? []) {
      // Rows in map order keep growing `ord`s; a key whose saved place is before the last one kept has moved.
      let last = 0;
      for (const [id, e] of rows) {
        const was = savedEntries?.get(id);
        if (was && was.ord > last) {
          last = was.ord;
          if (was.value !== e.value) delta.putEntries.push([rule, e.key, e.entry, was.ord, 0, e.value]);
        } else delta.putEntries.push([rule, e.key, e.entry, (last = this.nextOrd++), 0, e.value]);
      }
    }
    if (savedEntries) {
      for (const [id, was] of savedEntries) {
        if (!entries?.has(id) && !digestRows?.has(id) && !keyed?.some((rows) => rows.has(id))) delta.dropEntries.push([rule, was.key, was.entry]);
      }
    }
    const saved = this.held.get(rule);
    for (const [id, ref] of found) if (!saved?.has(id)) delta.putEvents.push([rule, id, JSON.stringify(ref)]);
    if (saved) for (const id of saved) if (!found.has(id)) delta.dropEvents.push([rule, id]);
  }

  accept(delta: RuleStateDelta): void {
    for (const [rule, shape] of delta.shapes) {
      if (shape === null) {
        this.shapes.delete(rule);
        this.held.delete(rule);
        this.entries.delete(rule);
      } else this.shapes.set(rule, shape);
    }
    for (const [rule, key, entry] of delta.dropEntries) this.entries.get(rule)?.delete(entryId(key, entry));
    for (const [rule, key, entry, ord, , value] of delta.putEntries) {
      let m = this.entries.get(rule);
      if (!m) this.entries.set(rule, (m = new Map()));
      m.set(entryId(key, entry), { key, entry, ord, value });
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
    this.entries.clear();
  }
}
