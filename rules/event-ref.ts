/** The short copies of events that temporal state, traces and snapshots keep (bodies cut, so state stays small). */
import type { PanoptesEvent } from '../core/event.js';
import type { EventRef } from './types.js';

export const MAX_REF_BODY = 1_000;

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

/** State keeps an event as it is when its body is short (no copy per re-armed absence); snapshots cut it to a ref. */
export function refOf(e: PanoptesEvent): EventRef {
  return e.body.length <= MAX_REF_BODY ? e : toRef(e);
}
