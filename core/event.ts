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

const MAX_TITLE = 2_000;
const MAX_BODY = 200_000;

/** Clamp what a monitor brought in, so one huge payload cannot bloat the store or the UI. */
export function normalizeNewEvent(input: NewEvent): Required<Omit<NewEvent, 'ts' | 'backfill'>> & { ts: string } {
  if (!input || typeof input.type !== 'string' || !/^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$/i.test(input.type)) {
    throw new Error(`event type must be namespaced like "feed.item", got ${JSON.stringify(input?.type)}`);
  }
  const ts = input.ts instanceof Date ? input.ts : input.ts ? new Date(input.ts) : new Date();
  return {
    type: input.type,
    ts: Number.isNaN(ts.getTime()) ? new Date().toISOString() : ts.toISOString(),
    title: clampString(input.title ?? '', MAX_TITLE),
    body: clampString(input.body ?? '', MAX_BODY),
    url: input.url ? String(input.url) : null,
    fields: input.fields ?? {},
    tags: [...new Set([...(Array.isArray(input.tags) ? input.tags.map(String) : []), ...(input.backfill === true ? [BACKFILL_TAG] : [])])],
  };
}

function clampString(s: unknown, max: number): string {
  const str = typeof s === 'string' ? s : String(s);
  return str.length > max ? str.slice(0, max - 1) + '…' : str;
}
