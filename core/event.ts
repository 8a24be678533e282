/**
 * The event: the one record every part of Panoptes shares. Monitors produce them, the store keeps them,
 * rules react to them, the UI shows them. Ids are ULIDs, so they sort by time and are unique across machines.
 */
/** The source of Panoptes' own events (flags, agents, its health). */
export const SELF_SOURCE = 'panoptes';

export interface EventOrigin {
  agentId: string;
  hostname: string;
}

export interface PanoptesEvent {
  id: string;
  /** ISO time at which the thing happened (a feed item's date, a mail's arrival, an idle start back-dated). */
  ts: string;
  /** ISO time at which Panoptes stored it. */
  receivedAt: string;
  /** Monitor instance id, e.g. `rss:hacker-news`, or `panoptes` for the app's own events. */
  source: string;
  /** Namespaced by monitor kind: `feed.item`, `mail.received`, `flag.set`, … */
  type: string;
  title: string;
  body: string;
  url: string | null;
  fields: Record<string, unknown>;
  tags: string[];
  origin?: EventOrigin;
  /**
   * Set only on an event as a list or a live push sends it, when it was too big to send whole: long texts were cut
   * (each says so and how long it was) and large objects summarised. `events.get` returns the whole event.
   */
  cut?: true;
}

/**
 * The tag of an event its monitor knows is old news: what a source already held at a first check ("emit current
 * items"), caught up after the machine was off. The notification center folds these into one notification from the
 * first item instead of showing them one by one (an item without a date cannot be judged by its age); rules and
 * searches can see the tag too.
 */
export const BACKFILL_TAG = 'backfill';

/** What a monitor hands to `emit`: the store fills in id, receivedAt and source. */
export interface NewEvent {
  type: string;
  ts?: string | Date;
  title?: string;
  body?: string;
  url?: string | null;
  fields?: Record<string, unknown>;
  tags?: string[];
  /** The monitor knows this is old news (a backfill): stored as the `backfill` tag (BACKFILL_TAG). */
  backfill?: boolean;
}

/** A stored event plus its position in the store's log (used by cursors, never shown to users). */
export interface StoredEvent extends PanoptesEvent {
  seq: number;
}

/**
 * What one stored event may hold. A source sends what it sends (a webhook up to 1 MiB, an MQTT payload, a page's
 * fields); what the store keeps per event is bounded, so one source cannot grow the database, every list and every
 * forwarded message by megabytes per event. The url and tags match what a forwarded event may carry
 * (engine/forwarding/wire.ts). Sizes are in characters (fields: of their JSON). Nothing is cut silently: a cut text
 * ends in "… [cut: N characters in all]", a cut list or object becomes "[cut: a list of N items, M characters as
 * JSON] " followed by the start of its JSON, a value nested too deep a marker saying so, and the engine logs which
 * parts of which event were cut.
 */
export const EVENT_LIMITS = {
  title: 2_000,
  body: 200_000,
  url: 8_192,
  tags: 200,
  tag: 200,
  /** One field's value, as JSON. */
  field: 512 * 1024,
  /** All of an event's fields together, as JSON: past it the largest are cut first, to an even share. */
  fields: 1024 * 1024,
  /** Field names kept; the rest are named in one marker field. */
  keys: 1_000,
  /** Deeper values are replaced by a marker (serialising them would overflow the stack when stored). */
  depth: 64,
} as const;

const count = (n: number) => n.toLocaleString('en');

const CUT_MARKER = /^… \[cut: [\d,]+ characters in all\]$/;

/**
 * `s` cut to `max` characters, followed by a marker saying it was cut and how long it was. A text this already cut is
 * kept as it is: an event capped once (by the agent that stored it) is not cut again where it is forwarded to.
 */
export function cutText(s: string, max: number): string {
  if (s.length <= max || (s.length <= max + 48 && CUT_MARKER.test(s.slice(max)))) return s;
  return `${s.slice(0, max)}… [cut: ${count(s.length)} characters in all]`;
}

/** About how many characters `v` takes as JSON, walking no further than `limit`; Infinity when nested deeper than EVENT_LIMITS.depth. */
function sizeOf(v: unknown, limit: number): number {
  let size = 0;
  let tooDeep = false;
  const walk = (x: unknown, depth: number): void => {
    if (size > limit || tooDeep) return;
    if (typeof x === 'string') size += x.length + 2;
    else if (x === null || typeof x !== 'object') size += 8;
    else if (depth >= EVENT_LIMITS.depth) tooDeep = true;
    else if (Array.isArray(x)) {
      size += 2;
      for (const y of x) {
        if (size > limit || tooDeep) return;
        size += 1;
        walk(y, depth + 1);
      }
    } else {
      size += 2;
      for (const k of Object.keys(x)) {
        if (size > limit || tooDeep) return;
        size += k.length + 4;
        walk((x as Record<string, unknown>)[k], depth + 1);
      }
    }
  };
  walk(v, 0);
  return tooDeep ? Infinity : size;
}

/** The start of `s`, short enough to take at most `max` characters as JSON (quotes and control characters grow there). */
function headFitting(s: string, max: number): string {
  let head = s.slice(0, max);
  for (let i = 0; i < 4; i++) {
    const n = JSON.stringify(head).length;
    if (n <= max) break;
    head = head.slice(0, Math.floor((head.length * max) / n));
  }
  return head;
}

/** `v` (larger than `max` as JSON, not too deep) cut to about `max` characters of JSON, saying what it was. */
function cutValue(v: unknown, max: number): string {
  if (typeof v === 'string') return `${headFitting(v, max)}… [cut: ${count(v.length)} characters in all]`;
  const json = JSON.stringify(v) ?? String(v);
  const what = Array.isArray(v) ? `a list of ${count(v.length)} items` : `an object with ${count(Object.keys(v as object).length)} keys`;
  return `[cut: ${what}, ${count(json.length)} characters as JSON] ${headFitting(json, max)}`;
}

/** Room the markers take beyond a cut value's `max`. */
const MARKER_ROOM = 120;

function cappedFields(input: unknown, cut: string[]): Record<string, unknown> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return {};
  const all = Object.keys(input);
  const keys = all.slice(0, EVENT_LIMITS.keys);
  const out: Record<string, unknown> = {};
  const sizes = new Map<string, number>();
  for (const k of keys) {
    const v = (input as Record<string, unknown>)[k];
    const size = sizeOf(v, EVENT_LIMITS.field);
    if (size === Infinity) {
      out[k] = `[cut: nested deeper than ${EVENT_LIMITS.depth} levels]`;
      cut.push(`fields.${k}`);
    } else if (size > EVENT_LIMITS.field) {
      out[k] = cutValue(v, EVENT_LIMITS.field - MARKER_ROOM);
      cut.push(`fields.${k}`);
    } else out[k] = v;
    sizes.set(k, (out[k] === v ? size : sizeOf(out[k], Infinity)) + k.length + 4);
  }
  if (all.length > keys.length) {
    out['…'] = `[cut: ${count(all.length - keys.length)} more fields]`;
    cut.push('fields');
  }
  // Over the whole-event budget: the largest fields are cut to an even share of it, so small ones stay whole.
  let total = 0;
  for (const n of sizes.values()) total += n;
  if (total > EVENT_LIMITS.fields) {
    const sorted = [...sizes.values()].sort((a, b) => a - b);
    let left = EVENT_LIMITS.fields;
    let share = 0;
    for (let i = 0; i < sorted.length; i++) {
      const even = Math.floor(left / (sorted.length - i));
      if (sorted[i]! > even) {
        share = even;
        break;
      }
      left -= sorted[i]!;
    }
    for (const [k, n] of sizes) {
      if (n <= share) continue;
      out[k] = cutValue((input as Record<string, unknown>)[k], Math.max(100, share - k.length - 4 - MARKER_ROOM));
      if (!cut.includes(`fields.${k}`)) cut.push(`fields.${k}`);
    }
  }
  // Almost always nothing was cut: the monitor's own object is kept.
  return cut.some((c) => c.startsWith('fields')) ? out : (input as Record<string, unknown>);
}

function cappedTags(input: unknown, backfill: boolean, cut: string[]): string[] {
  const tags = [...new Set([...(Array.isArray(input) ? input.map(String) : []), ...(backfill ? [BACKFILL_TAG] : [])])];
  const kept = tags.map((t) => cutText(t, EVENT_LIMITS.tag));
  if (kept.some((t, i) => t !== tags[i]) || tags.length > EVENT_LIMITS.tags) cut.push('tags');
  if (tags.length <= EVENT_LIMITS.tags) return kept;
  // The backfill tag decides how the center shows the event: kept whatever else is cut.
  const head = kept.filter((t) => t !== BACKFILL_TAG).slice(0, EVENT_LIMITS.tags - (backfill ? 2 : 1));
  return [...head, ...(backfill ? [BACKFILL_TAG] : []), `[cut: ${count(tags.length)} tags in all]`];
}

/**
 * Check and clamp what a monitor brought in (EVENT_LIMITS), so one huge payload cannot bloat the store or the UI.
 * `onCut` hears which parts were cut (`title`, `fields.blob`, …), when any was.
 */
export function normalizeNewEvent(input: NewEvent, onCut?: (parts: string[]) => void): Required<Omit<NewEvent, 'ts' | 'backfill'>> & { ts: string } {
  if (!input || typeof input.type !== 'string' || !/^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$/i.test(input.type)) {
    throw new Error(`event type must be namespaced like "feed.item", got ${JSON.stringify(input?.type)}`);
  }
  const ts = input.ts instanceof Date ? input.ts : input.ts ? new Date(input.ts) : new Date();
  const cut: string[] = [];
  const text = (part: 'title' | 'body' | 'url', v: unknown): string => {
    const str = typeof v === 'string' ? v : String(v);
    const kept = cutText(str, EVENT_LIMITS[part]);
    if (kept !== str) cut.push(part);
    return kept;
  };
  const event = {
    type: input.type,
    ts: Number.isNaN(ts.getTime()) ? new Date().toISOString() : ts.toISOString(),
    title: text('title', input.title ?? ''),
    body: text('body', input.body ?? ''),
    url: input.url ? text('url', input.url) : null,
    fields: cappedFields(input.fields ?? {}, cut),
    tags: cappedTags(input.tags, input.backfill === true, cut),
  };
  if (cut.length) onCut?.(cut);
  return event;
}
