// RSS / Atom / RDF / JSON Feed: poll a feed politely (conditional GET, per-host limit, size cap) and emit one
// `feed.item` per item that was not there before. The first poll only records what is there, unless the user asks
// for the current items too.
import { z } from 'zod';
import type { CheckResult, MonitorContext, MonitorDefinition } from '../../core/monitor.js';
import { conditionalGet, type FetchFn, type Validators } from '../../base/conditional-get.js';
import type { FeedEntry, ParsedFeed } from './parse.js';
import { diffEntries, readSeen, remember, entryKey, DEFAULT_SEEN_LIMIT } from './seen.js';
import { truncate } from './text.js';
import { checkWindowsField, outsideCheckWindows } from '../../core/check-windows.js';

/** Five minutes: faster than most publishers update, slow enough that nobody gets banned for hammering. */
export const MIN_INTERVAL_MINUTES = 5;
const MAX_FEED_BYTES = 10 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 30_000;
const SUMMARY_CHARS = 2_000;
const ACCEPT = 'application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5';

export const rssConfigSchema = z.object({
  url: z
    .url({ protocol: /^https?$/, error: 'enter a full http:// or https:// address of the feed' })
    .meta({ label: 'Feed address', help: 'The RSS, Atom, RDF or JSON Feed URL, e.g. https://example.com/feed.xml' }),
  intervalMinutes: z
    .number()
    .int()
    .min(MIN_INTERVAL_MINUTES, `check at most every ${MIN_INTERVAL_MINUTES} minutes`)
    .max(7 * 24 * 60)
    .default(15)
    .meta({ label: 'Check every (minutes)', help: `How often to fetch the feed; at least ${MIN_INTERVAL_MINUTES}. Unchanged feeds cost almost nothing (conditional GET).` }),
  checkWindows: checkWindowsField('the feed'),
  emitCurrentItems: z
    .boolean()
    .default(false)
    .meta({ label: 'Emit current items', help: 'On the first check, also emit the items already in the feed (marked as a backfill: they come as one notification, not one each). Off: the first check only remembers them.' }),
  username: z.string().max(500).optional().meta({ label: 'Username', help: 'For feeds behind HTTP basic authentication.' }),
  password: z.string().max(500).optional().meta({ label: 'Password', help: 'For HTTP basic authentication; kept in the secret store.', secret: true }),
});
export type RssConfig = z.infer<typeof rssConfigSchema>;

/** Keys in `ctx.state`. */
const STATE = { seen: 'seen', initialized: 'initialized', validators: 'validators', feedUrl: 'feedUrl', notBefore: 'notBefore', moved: 'moved' } as const;
/** A publisher may ask for long pauses between checks; past a day we check anyway. */
const MAX_REFRESH_MINUTES = 1_440;

const definition: MonitorDefinition<RssConfig> = {
  type: 'rss',
  badge: 'RSS',
  category: 'News',
  title: 'RSS / Atom feed',
  description: 'Watches an RSS, Atom, RDF or JSON Feed and emits each new item once, even across restarts, reorders and edits.',
  configSchema: rssConfigSchema,
  minIntervalMs: MIN_INTERVAL_MINUTES * 60_000,
  events: [
    {
      type: 'feed.item',
      description: 'A new item appeared in the feed. Title is the item title, body its summary as plain text, url its link.',
      fields: {
        feed: 'The monitor instance name',
        feedTitle: "The feed's own title",
        feedUrl: 'The feed address (after redirects)',
        author: 'Author name, or null',
        published: 'Publication date (ISO 8601), or null when the feed gives none',
        summary: 'Summary as plain text (at most 2,000 characters)',
        contentHtml: 'Full content HTML as published (sanitized only when shown), or null',
        categories: 'Category names (array of strings)',
        enclosure: '{ url, type, length } of the first enclosure/media (podcasts), or null',
        guid: "The item's guid/id, or null",
      },
    },
  ],
  // The feed's address: a second monitor of it would double its items.
  sources: (c) => [new URL(c.url).href],
  create(ctx) {
    const intervalMs = Math.max(ctx.config.intervalMinutes, MIN_INTERVAL_MINUTES) * 60_000;
    return {
      start() {
        ctx.every(intervalMs, (signal, run) => pollOnce(ctx, signal, run.manual), { timeoutMs: FETCH_TIMEOUT_MS + 15_000, spread: true });
      },
      stop() {},
    };
  },
};

export default definition;

/** One check: fetch (conditionally), parse, emit what is new, remember. Throws with a readable reason on failure. */
export interface FetchFeedOptions {
  fetch?: FetchFn;
  signal?: AbortSignal;
  validators?: Validators;
  basicAuth?: { username: string; password: string } | null;
}

export type FetchedFeed =
  | { notModified: true; url: string; validators: Validators; movedPermanently: boolean }
  | { notModified: false; url: string; validators: Validators; feed: ParsedFeed; encoding: string; movedPermanently: boolean };

/** Fetch (conditionally) and parse one feed. Throws with a readable reason: HTTP status, network, not a feed. */
export async function fetchFeed(url: string, options: FetchFeedOptions = {}): Promise<FetchedFeed> {
  const res = await conditionalGet(url, {
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    validators: options.validators ?? {},
    accept: ACCEPT,
    timeoutMs: FETCH_TIMEOUT_MS,
    maxBytes: MAX_FEED_BYTES,
    basicAuth: options.basicAuth ?? null,
  });
  if (res.notModified) return { notModified: true, url: res.url, validators: res.validators, movedPermanently: res.movedPermanently };
  // The parser (feed-parser, cheerio) is loaded with the first feed fetched, not when the engine starts.
  const { parseFeedBytes } = await import('./parse.js');
  const parsed = parseFeedBytes(res.body, {
    url: res.url,
    contentType: res.headers.get('content-type'),
    contentLocation: res.headers.get('content-location'),
  });
  const { encoding, ...feed } = parsed;
  return { notModified: false, url: res.url, validators: res.validators, feed, encoding, movedPermanently: res.movedPermanently };
}

/** One check: fetch (conditionally), parse, emit what is new, remember. Throws with a readable reason on failure. */
export async function pollOnce(ctx: MonitorContext<RssConfig>, signal: AbortSignal, manual = false): Promise<void | CheckResult> {
  const { config } = ctx;
  // Outside its check windows (weekdays, office hours…) the feed is not asked; the next check waits for the opening.
  const closed = ctx.dryRun ? null : outsideCheckWindows(config.checkWindows ?? [], manual);
  if (closed) {
    ctx.health.ok(closed.message);
    return closed.result;
  }
  const notBefore = ctx.state.get(STATE.notBefore);
  if (!manual && !ctx.dryRun && typeof notBefore === 'number' && Date.now() < notBefore) {
    // The publisher asked for fewer checks (RSS <ttl>, sy:updatePeriod): honour it, the feed is still considered fine.
    ctx.health.ok(`not checked: the feed asks readers to wait between checks; next check after ${new Date(notBefore).toISOString().slice(11, 16)} UTC`);
    return;
  }
  const password = ctx.secrets.password ?? config.password ?? '';
  // A feed that moved permanently is polled at its new address until the configured URL changes.
  const moved = readMoved(ctx.state.get(STATE.moved), config.url);
  const got = await fetchFeed(moved ?? config.url, {
    fetch: (url, options) => ctx.fetch(url, { ...options, signal }),
    signal,
    validators: ctx.dryRun ? {} : readValidators(ctx.state.get(STATE.validators)),
    basicAuth: config.username ? { username: config.username, password } : null,
  });
  if (got.movedPermanently && !ctx.dryRun) ctx.state.set(STATE.moved, { from: config.url, to: got.url });
  const where = got.movedPermanently || moved ? ` (moved permanently to ${got.movedPermanently ? got.url : moved})` : '';
  if (got.notModified) {
    ctx.health.ok(`not modified since the last check${where}`);
    return;
  }
  await processFeed(ctx, got.feed, got.url);
  if (!ctx.dryRun) {
    ctx.state.set(STATE.validators, got.validators);
    const wait = Math.min(got.feed.refreshMinutes ?? 0, MAX_REFRESH_MINUTES) * 60_000;
    // Only a pause longer than the monitor's own interval changes anything.
    if (wait > config.intervalMinutes * 60_000) ctx.state.set(STATE.notBefore, Date.now() + wait);
    else ctx.state.delete(STATE.notBefore);
  }
  const n = got.feed.entries.length;
  ctx.health.ok(`${n} item${n === 1 ? '' : 's'} in the feed${where}`);
}

/**
 * Emit the entries not seen before. Each one is remembered right after it is stored, so a crash in the middle
 * re-emits at most the one item that was being written.
 */
export async function processFeed(ctx: Pick<MonitorContext<RssConfig>, 'config' | 'state' | 'dryRun' | 'emit' | 'name'>, feed: ParsedFeed, feedUrl: string): Promise<number> {
  if (ctx.dryRun) {
    // What the source holds now, as if all of it were new.
    const all = diffEntries(feed.entries, []).fresh;
    for (const e of all) await ctx.emit(toEvent(e, feed, feedUrl, ctx.name));
    return all.length;
  }
  const seen = readSeen(ctx.state.get(STATE.seen));
  const firstRun = ctx.state.get(STATE.initialized) !== true;
  const { fresh, nextSeen } = diffEntries(feed.entries, seen, DEFAULT_SEEN_LIMIT);
  let emitted = 0;
  if (!firstRun || ctx.config.emitCurrentItems) {
    let kept = seen;
    for (const e of fresh) {
      // The first check's items are what the feed already held: a backfill, folded into one notification (dated or not).
      await ctx.emit({ ...toEvent(e, feed, feedUrl, ctx.name), ...(firstRun ? { backfill: true } : {}) });
      kept = remember(kept, [entryKey(e)], DEFAULT_SEEN_LIMIT + fresh.length);
      ctx.state.set(STATE.seen, kept);
      emitted++;
    }
  }
  ctx.state.set(STATE.seen, nextSeen);
  ctx.state.set(STATE.initialized, true);
  ctx.state.set(STATE.feedUrl, feedUrl);
  return emitted;
}

export function toEvent(e: FeedEntry, feed: ParsedFeed, feedUrl: string, feedName: string) {
  const summary = truncate(e.summary, SUMMARY_CHARS);
  return {
    type: 'feed.item',
    ...(e.published ? { ts: e.published } : {}),
    title: e.title || truncate(summary.replace(/\s+/g, ' '), 120) || '(untitled item)',
    body: summary,
    url: e.link,
    fields: {
      feed: feedName,
      feedTitle: feed.title,
      feedUrl,
      author: e.author,
      published: e.published,
      summary,
      contentHtml: e.contentHtml,
      categories: e.categories,
      enclosure: e.enclosure,
      guid: e.guid,
    },
  };
}

function readMoved(v: unknown, configured: string): string | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  return o.from === configured && typeof o.to === 'string' ? o.to : null;
}

function readValidators(v: unknown): Validators {
  if (!v || typeof v !== 'object') return {};
  const o = v as Record<string, unknown>;
  return { etag: typeof o.etag === 'string' ? o.etag : null, lastModified: typeof o.lastModified === 'string' ? o.lastModified : null };
}
