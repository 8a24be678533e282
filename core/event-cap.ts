/**
 * Events as lists and live pushes send them. The store keeps what a source sent (bodies up to 200,000 characters,
 * fields of any size), but a list of a hundred events carrying megabyte fields would be one message of a hundred
 * megabytes: over the slow-consumer limit, and far more than a row or a search hit shows. In lists each event is
 * capped: long texts are cut with a marker saying so and how long they were, large objects and arrays are summarised,
 * and the event says it was `cut`; `events.get` returns it whole.
 */
import { cutText, type PanoptesEvent } from './event.js';

export { cutText };

/** A body longer than this is cut in lists (a row shows a line of it; the detail fetches the whole event). */
export const LIST_BODY = 4_000;
const LIST_TITLE = 2_000;
const LIST_URL = 4_000;
const LIST_TAGS = 100;
const LIST_TAG = 200;
/** One field's value in a list, as JSON: longer strings are cut, larger objects and arrays summarised. */
const LIST_FIELD = 2_000;
/** All of an event's fields together in a list. */
const LIST_FIELDS = 16_000;
const LIST_KEYS = 200;

const count = (n: number) => n.toLocaleString('en');


/**
 * About how many characters `v` takes as JSON, counting only up to `limit` (a value past it is not walked further:
 * measuring a huge field must not cost what serialising it would).
 */
export function jsonSizeUpTo(v: unknown, limit: number): number {
  let size = 0;
  const walk = (x: unknown, depth: number): void => {
    if (size > limit) return;
    if (typeof x === 'string') size += x.length + 2;
    else if (x === null || typeof x !== 'object') size += 8;
    else if (depth > 32) size += limit + 1;
    else if (Array.isArray(x)) {
      size += 2;
      for (const y of x) {
        if (size > limit) return;
        size += 1;
        walk(y, depth + 1);
      }
    } else {
      size += 2;
      for (const k of Object.keys(x)) {
        if (size > limit) return;
        size += k.length + 4;
        walk((x as Record<string, unknown>)[k], depth + 1);
      }
    }
  };
  walk(v, 0);
  return size;
}

function summary(v: object): string {
  if (Array.isArray(v)) return `[cut: a list of ${count(v.length)} items]`;
  return `[cut: an object with ${count(Object.keys(v).length)} keys]`;
}

function tooBig(e: PanoptesEvent): boolean {
  if (e.title.length > LIST_TITLE || e.body.length > LIST_BODY || (e.url !== null && e.url.length > LIST_URL)) return true;
  if (e.tags.length > LIST_TAGS || e.tags.some((t) => t.length > LIST_TAG)) return true;
  const fields = e.fields;
  if (fields === null || typeof fields !== 'object') return false;
  const keys = Object.keys(fields);
  if (keys.length > LIST_KEYS) return true;
  let left = LIST_FIELDS;
  for (const k of keys) {
    const size = jsonSizeUpTo(fields[k], LIST_FIELD);
    if (size > LIST_FIELD) return true;
    left -= size + k.length + 4;
    if (left < 0) return true;
  }
  return false;
}

function cappedFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = Object.keys(fields);
  let left = LIST_FIELDS;
  for (const k of keys.slice(0, LIST_KEYS)) {
    const v = fields[k];
    // Once the budget is spent, the remaining fields are still named (a rule builder lists them), their values cut short.
    const max = Math.max(100, Math.min(LIST_FIELD, left));
    if (typeof v === 'string') out[k] = cutText(v, max);
    else if (v === null || typeof v !== 'object') out[k] = v;
    else out[k] = jsonSizeUpTo(v, max) > max ? summary(v) : v;
    left -= jsonSizeUpTo(out[k], max) + k.length + 4;
  }
  if (keys.length > LIST_KEYS) out['…'] = `[cut: ${count(keys.length - LIST_KEYS)} more fields]`;
  return out;
}

/**
 * The event as a list sends it: itself when it is small (almost always), else a copy of bounded size (about
 * LIST_FIELDS + LIST_BODY + LIST_TITLE + LIST_URL characters and the tags) with `cut: true`.
 */
export function forList(e: PanoptesEvent): PanoptesEvent {
  if (!tooBig(e)) return e;
  return {
    ...e,
    title: cutText(e.title, LIST_TITLE),
    body: cutText(e.body, LIST_BODY),
    url: e.url === null ? null : cutText(e.url, LIST_URL),
    fields: e.fields !== null && typeof e.fields === 'object' ? cappedFields(e.fields) : e.fields,
    tags: e.tags.length > LIST_TAGS || e.tags.some((t) => t.length > LIST_TAG) ? e.tags.slice(0, LIST_TAGS).map((t) => cutText(t, LIST_TAG)) : e.tags,
    cut: true,
  };
}
