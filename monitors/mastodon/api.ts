// Mastodon's REST API as this monitor uses it: timelines and notifications after a cursor (min_id, so a long
// gap is walked oldest-first without skipping), rate-limit headers honoured, errors worded for users.
import type { MonitorContext } from '../../core/monitor.js';
import type { MastodonConfig } from './settings.js';

export interface Account {
  id: string;
  username: string;
  acct: string;
  display_name?: string;
  url?: string;
}
export interface Status {
  id: string;
  created_at: string;
  content: string;
  url?: string | null;
  uri?: string;
  spoiler_text?: string;
  visibility?: string;
  account: Account;
  replies_count?: number;
  reblogs_count?: number;
  favourites_count?: number;
  reblog?: Status | null;
}
export interface Notification {
  id: string;
  type: string;
  created_at: string;
  account: Account;
  status?: Status | null;
}
/** What the cursor walks over: a status (timelines) or a notification wrapping one (mentions). */
export type Item = { id: string; status: Status; notificationId?: string };

/** Mastodon ids are numeric strings that may not fit a double: compare by length, then text. */
export const compareIds = (a: string, b: string): number => (a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0);

export class RateLimitedError extends Error {
  constructor(readonly until: number) {
    super(`rate limited by the instance until ${new Date(until).toISOString().slice(11, 19)} UTC; no requests until then`);
    this.name = 'RateLimitedError';
  }
}

const PAGE = 40;

export function instanceBase(config: MastodonConfig): string {
  return config.instance.replace(/\/+$/, '');
}

export function authHeaders(ctx: MonitorContext<MastodonConfig>): Record<string, string> {
  const token = ctx.secrets.accessToken;
  return { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
}

export function createApi(ctx: MonitorContext<MastodonConfig>) {
  const base = instanceBase(ctx.config);
  let blockedUntil = 0;

  async function get<T>(path: string, query: Record<string, string | string[]> = {}): Promise<T> {
    if (Date.now() < blockedUntil) throw new RateLimitedError(blockedUntil);
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(query)) for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, one);
    const res = await ctx.fetch(url.toString(), { headers: authHeaders(ctx), timeoutMs: 30_000, maxBytes: 5 * 1024 * 1024 });
    const reset = Date.parse(res.headers.get('x-ratelimit-reset') ?? '');
    if (res.status === 429) {
      blockedUntil = Number.isFinite(reset) ? reset : Date.now() + 5 * 60_000;
      throw new RateLimitedError(blockedUntil);
    }
    if (res.headers.get('x-ratelimit-remaining') === '0' && Number.isFinite(reset)) blockedUntil = reset;
    if (res.status === 401) throw new Error('the instance rejected the access token (401): create a new one with the "read" scope');
    if (res.status === 403) throw new Error('the instance refused access (403): the token lacks the "read" scope, or the timeline is private');
    if (res.status === 404) throw new Error(`the instance has no ${path} (404): is ${base} a Mastodon server?`);
    if (!res.ok) throw new Error(`the instance answered ${res.status}: ${errorText(res.body)}`);
    try {
      return JSON.parse(res.body.toString('utf8')) as T;
    } catch {
      throw new Error(`the instance sent something that is not JSON for ${path}`);
    }
  }

  function endpoint(): { path: string; query: Record<string, string | string[]> } {
    const c = ctx.config;
    if (c.timeline === 'home') return { path: '/api/v1/timelines/home', query: {} };
    if (c.timeline === 'mentions') return { path: '/api/v1/notifications', query: { 'types[]': ['mention'] } };
    return { path: `/api/v1/timelines/tag/${encodeURIComponent(c.hashtag!.replace(/^#/, ''))}`, query: {} };
  }

  const toItems = (list: unknown): Item[] => {
    if (!Array.isArray(list)) throw new Error('the instance sent an unexpected answer (not a list)');
    if (ctx.config.timeline === 'mentions') {
      return (list as Notification[]).filter((n) => n && n.type === 'mention' && n.status).map((n) => ({ id: n.id, status: n.status!, notificationId: n.id }));
    }
    return (list as Status[]).filter((s) => s && typeof s.id === 'string').map((s) => ({ id: s.id, status: s }));
  };

  return {
    /** The newest few items, oldest first (first-run baseline and dry run). */
    async newest(limit: number): Promise<Item[]> {
      const { path, query } = endpoint();
      const items = toItems(await get(path, { ...query, limit: String(limit) }));
      return items.sort((a, b) => compareIds(a.id, b.id));
    },
    /** Everything after `cursor`, oldest first, page by page (bounded so a huge gap cannot stall a check). */
    async after(cursor: string, maxPages = 10): Promise<Item[]> {
      const { path, query } = endpoint();
      const out: Item[] = [];
      let minId = cursor;
      for (let page = 0; page < maxPages; page++) {
        const items = toItems(await get(path, { ...query, limit: String(PAGE), ...(minId !== '0' ? { min_id: minId } : {}) }))
          .filter((i) => minId === '0' || compareIds(i.id, minId) > 0)
          .sort((a, b) => compareIds(a.id, b.id));
        out.push(...items);
        if (items.length < PAGE) break;
        minId = items.at(-1)!.id;
      }
      return out;
    },
    /** Where the streaming API lives (some instances serve it from another host); null if not announced. */
    async streamingBase(): Promise<string> {
      try {
        const info = await get<{ urls?: { streaming_api?: string } }>('/api/v1/instance');
        const s = info.urls?.streaming_api;
        if (s) return s.replace(/^wss:/, 'https:').replace(/^ws:/, 'http:').replace(/\/+$/, '');
      } catch (err) {
        if (err instanceof RateLimitedError) throw err;
      }
      return base;
    },
  };
}

function errorText(body: Buffer): string {
  try {
    const j = JSON.parse(body.toString('utf8')) as { error?: string };
    if (j.error) return String(j.error).slice(0, 200);
  } catch {
    /* not JSON */
  }
  return body.toString('utf8').slice(0, 200);
}
