// Mastodon monitor: home timeline, mentions or a hashtag on any instance. Polls the REST API after a persisted
// cursor, and listens to the streaming API where the instance allows for posts the moment they appear; both
// feed one serial queue, so every post is emitted once and in order.
import { htmlToPlain } from '../../base/html-to-plain.js';
import type { MonitorDefinition, MonitorContext } from '../../core/monitor.js';
import type { NewEvent } from '../../core/event.js';
import { parseDuration } from '../../core/duration.js';
import { authHeaders, compareIds, createApi, RateLimitedError, type Item, type Notification, type Status } from './api.js';
import { readStream } from './stream.js';
import { mastodonConfigSchema, type MastodonConfig } from './settings.js';

const CURSOR = 'cursor';
const STREAM_RETRY_BASE_MS = 2_000;
const STREAM_RETRY_CAP_MS = 10 * 60_000;

async function toEvent(ctx: MonitorContext<MastodonConfig>, item: Item): Promise<NewEvent> {
  const outer = item.status;
  const s = outer.reblog ?? outer; // a boost shows the boosted post, credited to its author
  const text = [s.spoiler_text ? `[CW: ${s.spoiler_text}]` : '', (await htmlToPlain(s.content ?? '')).trim()].filter(Boolean).join(' ');
  const url = s.url ?? s.uri ?? null;
  const name = s.account.display_name || s.account.username;
  return {
    type: 'social.post',
    ts: new Date(s.created_at),
    title: `${name} (@${s.account.acct}): ${text.slice(0, 140)}`,
    body: text,
    url,
    fields: {
      platform: 'mastodon',
      instance: new URL(ctx.config.instance).host,
      kind: ctx.config.timeline,
      id: s.id,
      ...(item.notificationId ? { notificationId: item.notificationId } : {}),
      author: { id: s.account.id, name, username: s.account.acct, url: s.account.url ?? null },
      text,
      url,
      visibility: s.visibility ?? null,
      boostedBy: outer.reblog ? outer.account.acct : null,
      metrics: { replies: s.replies_count ?? 0, reposts: s.reblogs_count ?? 0, likes: s.favourites_count ?? 0 },
    },
    tags: ['social', 'mastodon'],
  };
}

const mastodon: MonitorDefinition<MastodonConfig> = {
  type: 'mastodon',
  badge: 'MAST',
  category: 'Social',
  title: 'Mastodon',
  description:
    'Watches your home timeline, your mentions or a hashtag on any Mastodon instance and emits each new post once. ' +
    'Uses the instance\'s streaming API where it is allowed (instant), and polls as well, so nothing is missed across restarts or dropped streams. ' +
    'The first check only notes where the timeline stands.',
  configSchema: mastodonConfigSchema,
  minIntervalMs: 30_000,
  events: [
    {
      type: 'social.post',
      description: 'A new post. Title: "Name (@acct): text"; url: the post.',
      fields: {
        platform: '"mastodon".',
        instance: 'Host of the instance watched.',
        kind: '"home", "mentions" or "hashtag".',
        id: 'The status id.',
        notificationId: 'For mentions: the notification id.',
        author: '{ id, name, username (acct), url }.',
        text: 'The post as plain text (HTML converted), a content warning first as "[CW: …]".',
        url: 'Link to the post.',
        visibility: 'public, unlisted, private or direct.',
        boostedBy: 'For a boost on the home timeline: who boosted it, else null.',
        metrics: '{ replies, reposts, likes } when it was fetched.',
      },
    },
  ],
  // The instance and the timeline (and hashtag) read.
  sources: (c) => [`${new URL(c.instance).host} ${c.timeline} ${c.timeline === 'hashtag' ? (c.hashtag ?? '').replace(/^#/, '').toLowerCase() : ''}`],
  create(ctx) {
    const api = createApi(ctx);
    const controller = new AbortController();
    let queue: Promise<void> = Promise.resolve();
    let streamLoop: Promise<void> | null = null;

    // Everything that emits goes through this queue: a catch-up and stream events never interleave.
    const serial = <T>(fn: () => Promise<T>): Promise<T> => {
      const next = queue.then(fn);
      queue = next.then(
        () => {},
        () => {},
      );
      return next;
    };

    const accept = async (item: Item) => {
      const cursor = ctx.state.get<string>(CURSOR);
      if (cursor === undefined) return; // not baselined yet: the first poll decides where to start
      if (cursor !== '0' && compareIds(item.id, cursor) <= 0) return; // seen already
      // The cursor goes into the same transaction as the post: a crash can never repeat or skip one.
      await ctx.emit(await toEvent(ctx, item), { state: { [CURSOR]: item.id } });
    };

    const poll = async () => {
      if (ctx.config.timeline !== 'hashtag' && !ctx.secrets.accessToken) throw new Error(`watching ${ctx.config.timeline} needs an access token`);
      if (ctx.dryRun) {
        for (const item of (await api.newest(20)).slice(-5)) await ctx.emit(await toEvent(ctx, item));
        return;
      }
      const cursor = ctx.state.get<string>(CURSOR);
      if (cursor === undefined) {
        const newest = await api.newest(1);
        ctx.state.set(CURSOR, newest.at(-1)?.id ?? '0');
        return;
      }
      for (const item of await api.after(cursor)) await accept(item);
    };

    const onStreamEvent = (event: string, data: string) => {
      let item: Item | null = null;
      try {
        if (event === 'update' && ctx.config.timeline !== 'mentions') {
          const s = JSON.parse(data) as Status;
          if (s && typeof s.id === 'string' && s.account) item = { id: s.id, status: s };
        } else if (event === 'notification' && ctx.config.timeline === 'mentions') {
          const n = JSON.parse(data) as Notification;
          if (n && n.type === 'mention' && n.status) item = { id: n.id, status: n.status, notificationId: n.id };
        }
      } catch {
        ctx.log.warn(`ignored a streaming event that is not JSON (${event})`);
      }
      if (item) {
        const it = item;
        void serial(() => accept(it)).catch((err) => ctx.log.warn(`could not store a streamed post: ${(err as Error).message}`));
      }
    };

    const runStream = (signal: AbortSignal) =>
      ctx.reconnect(
        async (signal, up) => {
          const base = await api.streamingBase();
          const c = ctx.config;
          const url = c.timeline === 'hashtag' ? `${base}/api/v1/streaming/hashtag?tag=${encodeURIComponent(c.hashtag!.replace(/^#/, ''))}` : `${base}/api/v1/streaming/user`;
          await readStream(
            url,
            authHeaders(ctx),
            signal,
            () => {
              up();
              ctx.log.info('streaming connected');
              // Whatever came while the stream was down is fetched first, in order; stream events queue behind it.
              void serial(poll).catch((err) => ctx.log.warn(`catch-up after connecting the stream failed: ${(err as Error).message}`));
            },
            (e) => onStreamEvent(e.event, e.data),
          );
          return new Error('the stream ended');
        },
        {
          signal,
          baseMs: STREAM_RETRY_BASE_MS,
          capMs: STREAM_RETRY_CAP_MS,
          // A rate limit says when it lifts: wait exactly that long.
          delayFor: (err) => (err instanceof RateLimitedError ? Math.max(1_000, err.until - Date.now()) : undefined),
          onDown: (err) => {
            const status = (err as { status?: number }).status;
            ctx.log.info(err.message === 'the stream ended' ? 'the stream ended; reopening' : `${err.message}; ${status ? 'polling only for now' : 'reconnecting'}`);
          },
        },
      );

    return {
      start() {
        ctx.every(parseDuration(ctx.config.interval), () => serial(poll), { timeoutMs: 120_000 });
        if (!ctx.dryRun && ctx.config.streaming) {
          ctx.signal.addEventListener('abort', () => controller.abort(), { once: true });
          streamLoop = runStream(controller.signal);
        }
      },
      async stop() {
        controller.abort();
        await streamLoop;
      },
    };
  },
};


export default mastodon;
