// X (Twitter) monitor: mentions of a user, a user's posts, or a recent-search query, polled with since_id so
// each post is emitted once, honouring X's rate-limit headers (no request before the window resets).
import http from 'node:http';
import { z } from 'zod';
import type { TwitterApi, ApiResponseError } from 'twitter-api-v2';
import type { MonitorContext, MonitorDefinition } from '../../core/monitor.js';
import { isDuration, parseDuration } from '../../core/duration.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/i;

export const xConfigSchema = z
  .object({
    mode: z.enum(['mentions', 'user', 'search']).default('mentions').meta({ label: 'Watch', help: '"mentions": posts mentioning the user; "user": the user\'s own posts; "search": posts matching a query (recent search).' }),
    username: z.string().regex(/^@?\w{1,15}$/, 'an X user name, like "jack"').optional().meta({ label: 'User name', help: 'For "mentions" and "user": the account, without or with @.' }),
    query: z.string().min(1).max(512).optional().meta({ label: 'Search query', help: 'For "search": X search syntax, e.g. "panoptes -is:retweet lang:en".' }),
    token: z.string().optional().meta({ label: 'Token', help: 'An app bearer token or an OAuth 2 user access token. Stored in the secret store.', secret: true }),
    interval: z.string().refine(isDuration, { message: 'write a duration like "5m"' }).default('5m').meta({ label: 'Check every', help: 'How often to ask X for new posts (at least 1m; X\'s rate limits are tight).' }),
    baseUrl: z.string().url().default('https://api.x.com').meta({ label: 'API base URL', help: 'Only change this for a proxy or a test server.' }),
  })
  .superRefine((c, ctx) => {
    if (c.mode !== 'search' && !c.username) ctx.addIssue({ code: 'custom', path: ['username'], message: `a user name is needed to watch ${c.mode === 'user' ? "a user's posts" : 'mentions'}` });
    if (c.mode === 'search' && !c.query) ctx.addIssue({ code: 'custom', path: ['query'], message: 'a search query is needed' });
    const u = new URL(c.baseUrl);
    if (u.protocol === 'http:' && !LOOPBACK.test(u.hostname)) ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: 'plain http is only allowed to 127.0.0.1/localhost' });
  });

export type XConfig = z.infer<typeof xConfigSchema>;

interface Tweet {
  id: string;
  text: string;
  author_id?: string;
  created_at?: string;
  public_metrics?: { retweet_count?: number; reply_count?: number; like_count?: number; quote_count?: number };
}
interface XUser {
  id: string;
  name: string;
  username: string;
}
interface Page {
  data?: Tweet[];
  includes?: { users?: XUser[] };
  meta?: { newest_id?: string; next_token?: string; result_count?: number };
}

const MAX_PAGES = 5;
const byId = (a: { id: string }, b: { id: string }) => (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0);

export class RateLimitedError extends Error {
  constructor(readonly until: number) {
    super(`rate limited by X until ${new Date(until).toISOString().slice(11, 19)} UTC; no requests until then`);
    this.name = 'RateLimitedError';
  }
}

/** twitter-api-v2, loaded by the first request of an X monitor, not with the engine (#22: idle memory). */
let twitter: { TwitterApi: typeof TwitterApi; ApiResponseError: typeof ApiResponseError } | undefined;

function describe(err: unknown): Error {
  if (twitter && err instanceof twitter.ApiResponseError) {
    if (err.code === 401) return new Error('X rejected the token (401 Unauthorized): check or renew it');
    if (err.code === 403) return new Error('X refused access (403 Forbidden): the token lacks access to this endpoint');
    const detail = (err.data as { detail?: string; title?: string })?.detail ?? (err.data as { title?: string })?.title;
    return new Error(`X answered ${err.code}${detail ? `: ${String(detail).slice(0, 200)}` : ''}`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

function poller(ctx: MonitorContext<XConfig>) {
  const { config } = ctx;
  const prefix = config.baseUrl.replace(/\/+$/, '') + '/2/';
  // twitter-api-v2 always uses https.request; an http agent lets it talk plain http to a local server.
  const isHttp = prefix.startsWith('http:');
  let api: TwitterApi | undefined;
  let blockedUntil = 0;

  const get = async <T>(path: string, query: Record<string, string | number>): Promise<T> => {
    if (Date.now() < blockedUntil) throw new RateLimitedError(blockedUntil);
    const { TwitterApi: Api, ApiResponseError: ResponseError } = (twitter ??= await import('twitter-api-v2'));
    api ??= new Api(ctx.secrets.token ?? '', isHttp ? { httpAgent: new http.Agent({ keepAlive: false }) } : undefined);
    try {
      const res = await api.get<T>(path, query, { fullResponse: true, prefix, timeout: 30_000 });
      // The last request of a window: wait for the reset instead of running into a 429.
      if (res.rateLimit && res.rateLimit.remaining === 0) blockedUntil = res.rateLimit.reset * 1000;
      return res.data;
    } catch (err) {
      if (err instanceof ResponseError && err.code === 429) {
        blockedUntil = err.rateLimit?.reset ? err.rateLimit.reset * 1000 : Date.now() + 15 * 60_000;
        throw new RateLimitedError(blockedUntil);
      }
      throw describe(err);
    }
  };

  const userId = async (): Promise<string> => {
    const name = config.username!.replace(/^@/, '');
    const key = `userId:${name.toLowerCase()}`;
    const cached = ctx.state.get<string>(key);
    if (cached) return cached;
    const res = await get<{ data?: XUser }>(`users/by/username/${encodeURIComponent(name)}`, {});
    if (!res.data?.id) throw new Error(`X has no user "${name}"`);
    ctx.state.set(key, res.data.id);
    return res.data.id;
  };

  const fetchPages = async (sinceId: string | undefined, firstOnly: boolean): Promise<{ tweets: Tweet[]; users: Map<string, XUser> }> => {
    const path = config.mode === 'search' ? 'tweets/search/recent' : `users/${await userId()}/${config.mode === 'user' ? 'tweets' : 'mentions'}`;
    const base: Record<string, string | number> = {
      'tweet.fields': 'created_at,public_metrics,author_id',
      expansions: 'author_id',
      'user.fields': 'username,name',
      max_results: firstOnly ? 10 : 100,
    };
    if (config.mode === 'search') base.query = config.query!;
    if (sinceId) base.since_id = sinceId;
    const tweets: Tweet[] = [];
    const users = new Map<string, XUser>();
    let token: string | undefined;
    for (let page = 0; page < (firstOnly ? 1 : MAX_PAGES); page++) {
      const q = { ...base };
      if (token) q[config.mode === 'search' ? 'next_token' : 'pagination_token'] = token;
      const res = await get<Page>(path, q);
      tweets.push(...(res.data ?? []));
      for (const u of res.includes?.users ?? []) users.set(u.id, u);
      token = res.meta?.next_token;
      if (!token) break;
    }
    return { tweets: tweets.sort(byId), users };
  };

  const toEvent = (t: Tweet, users: Map<string, XUser>) => {
    const u = t.author_id ? users.get(t.author_id) : undefined;
    const username = u?.username ?? 'i';
    const url = `https://x.com/${username}/status/${t.id}`;
    const m = t.public_metrics ?? {};
    return {
      type: 'social.post',
      ts: t.created_at ? new Date(t.created_at) : new Date(),
      title: `${u ? `@${u.username}` : 'X'}: ${t.text.slice(0, 140)}`,
      body: t.text,
      url,
      fields: {
        platform: 'x',
        kind: config.mode,
        id: t.id,
        author: { id: t.author_id ?? null, name: u?.name ?? '', username: u?.username ?? '' },
        text: t.text,
        url,
        metrics: { replies: m.reply_count ?? 0, reposts: m.retweet_count ?? 0, likes: m.like_count ?? 0, quotes: m.quote_count ?? 0 },
      },
      tags: ['social', 'x'],
    };
  };

  return async function poll(): Promise<void> {
    if (!ctx.secrets.token) throw new Error('no token: add a bearer token or OAuth 2 user token in the secret field');
    const sinceId = ctx.dryRun ? undefined : ctx.state.get<string>('sinceId');
    if (!sinceId) {
      const { tweets, users } = await fetchPages(undefined, true);
      if (ctx.dryRun) {
        for (const t of tweets.slice(-5)) await ctx.emit(toEvent(t, users));
        return;
      }
      // First run: remember where the timeline stands, announce nothing ("0" = nothing there yet).
      ctx.state.set('sinceId', tweets.at(-1)?.id ?? '0');
      return;
    }
    const { tweets, users } = await fetchPages(sinceId === '0' ? undefined : sinceId, false);
    for (const t of tweets) {
      if (sinceId !== '0' && BigInt(t.id) <= BigInt(sinceId)) continue;
      // since_id goes into the same transaction as the post: a crash can never repeat or skip one.
      await ctx.emit(toEvent(t, users), { state: { sinceId: t.id } });
    }
  };
}

const xMonitor: MonitorDefinition<XConfig> = {
  type: 'x',
  badge: 'X',
  category: 'Social',
  title: 'X (Twitter)',
  description:
    'Polls X for mentions of an account, an account\'s posts, or a search, and emits each new post once (since_id). ' +
    'The first check only notes where things stand. When X says the rate limit is used up, no request is made until it resets.',
  configSchema: xConfigSchema,
  minIntervalMs: 60_000,
  events: [
    {
      type: 'social.post',
      description: 'A new post on X. Title: "@author: text"; url: the post.',
      fields: {
        platform: '"x".',
        kind: '"mentions", "user" or "search" — what the monitor watches.',
        id: 'The post id.',
        author: '{ id, name, username }.',
        text: 'The post text.',
        url: 'Link to the post.',
        metrics: '{ replies, reposts, likes, quotes } when it was fetched.',
      },
    },
  ],
  create(ctx) {
    const poll = poller(ctx);
    return {
      start() {
        ctx.every(parseDuration(ctx.config.interval), () => poll(), { timeoutMs: 120_000 });
      },
      stop() {},
    };
  },
};

export default xMonitor;
