/**
 * The short copies of events that temporal state, traces and snapshots keep. A window holds events until its pattern
 * completes (a count over a day, a digest, a sequence), so what it keeps of each must not grow with the event: a
 * source sending megabyte fields would otherwise make memory and the persisted state grow by megabytes per event.
 */
import type { PanoptesEvent } from '../core/event.js';
import type { EventRef } from './types.js';

export const MAX_REF_BODY = 1_000;
/** Titles and urls are cut like bodies (a little longer for urls, which are cut at their end). */
const MAX_REF_URL = 2_000;
const MAX_REF_TAGS = 100;
const MAX_TAG = 200;
/** What one kept field's value may take, as JSON (strings are cut, objects and arrays keep what fits). */
const MAX_FIELD = 1_000;
/** All the fields of one ref together, when a rule's templates may read any of them. */
const MAX_ALL_FIELDS = 8_000;
const MAX_ALL_KEYS = 100;

/**
 * Which fields a rule's windows keep of each event: the names its templates and keys read, or every field (each cut
 * short, MAX_ALL_FIELDS in all) when a template may read any (a whole `fields`, a `json` of events).
 */
export type RefFields = ReadonlySet<string> | 'all';

export function cut(s: string, max: number): string {
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

/**
 * `v` in at most about `budget.left` characters of JSON: strings cut, arrays and objects keep their first entries
 * that fit. Numbers, booleans and null are kept. The budget is shared, so a whole ref stays within its bound.
 */
function bounded(v: unknown, budget: { left: number }, depth = 0): unknown {
  if (typeof v === 'string') {
    const s = cut(v, Math.max(1, budget.left - 2));
    budget.left -= s.length + 2;
    return s;
  }
  if (v === null || typeof v !== 'object') {
    budget.left -= 8;
    return v;
  }
  if (depth > 8) {
    budget.left -= 4;
    return null;
  }
  budget.left -= 2;
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) {
      if (budget.left <= 0) break;
      out.push(bounded(x, budget, depth + 1));
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    if (budget.left <= 0) break;
    budget.left -= k.length + 3;
    out[k] = bounded((v as Record<string, unknown>)[k], budget, depth + 1);
  }
  return out;
}

const isSmall = (v: unknown) => typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined || (typeof v === 'string' && v.length <= MAX_FIELD);

function keptFields(fields: Record<string, unknown>, keep: RefFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // Stored events always have an object here; an event built elsewhere (a test, a replayed file) may not.
  if (fields === null || typeof fields !== 'object') return out;
  if (keep === 'all') {
    const budget = { left: MAX_ALL_FIELDS };
    let n = 0;
    for (const k of Object.keys(fields)) {
      if (budget.left <= 0 || n++ >= MAX_ALL_KEYS) break;
      const v = fields[k];
      if (isSmall(v)) {
        out[k] = typeof v === 'string' ? cut(v, Math.max(1, budget.left)) : v;
        budget.left -= (typeof v === 'string' ? v.length : 8) + k.length + 3;
      } else {
        out[k] = bounded(v, { left: Math.min(MAX_FIELD, budget.left) });
        budget.left -= MAX_FIELD;
      }
    }
    return out;
  }
  for (const k of keep) {
    if (!Object.prototype.hasOwnProperty.call(fields, k)) continue;
    const v = fields[k];
    out[k] = isSmall(v) ? (typeof v === 'string' ? cut(v, MAX_FIELD) : v) : bounded(v, { left: MAX_FIELD });
  }
  return out;
}

const cutTags = (tags: readonly string[]) => (tags.length <= MAX_REF_TAGS && tags.every((t) => t.length <= MAX_TAG) ? (tags as string[]) : tags.slice(0, MAX_REF_TAGS).map((t) => cut(t, MAX_TAG)));

/**
 * What a window keeps of an event: the event's identity and short texts, and of its fields those the rule reads.
 * Its size is bounded whatever the event's (see the limits above).
 */
export function slimRef(e: PanoptesEvent | EventRef, keep: RefFields): EventRef {
  return {
    id: e.id,
    ts: e.ts,
    source: cut(e.source, MAX_REF_URL),
    type: cut(e.type, MAX_REF_URL),
    title: cut(e.title, MAX_REF_BODY),
    body: cut(e.body, MAX_REF_BODY),
    url: e.url === null ? null : cut(e.url, MAX_REF_URL),
    fields: keptFields(e.fields, keep),
    tags: cutTags(e.tags),
  };
}

/** A trace's or a template's copy of an event: the body cut, the rest as it is (it is not kept for long). */
export function toRef(e: PanoptesEvent | EventRef): EventRef {
  return {
    id: e.id,
    ts: e.ts,
    source: e.source,
    type: e.type,
    title: e.title,
    body: e.body.length > MAX_REF_BODY ? e.body.slice(0, MAX_REF_BODY - 1) + '…' : e.body,
    url: e.url,
    fields: e.fields,
    tags: e.tags,
  };
}
