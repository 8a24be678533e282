// Microsoft Graph as the mail source (Microsoft 365, Outlook.com): new Inbox messages by delta query
// (/me/mailFolders/inbox/messages/delta), page by page through @odata.nextLink to an @odata.deltaLink that the next
// round starts from. Each event is stored with the link it came from and the ids emitted lately, so a crash
// repeats nothing and loses nothing; Graph's throttling (429 + Retry-After) is waited out as asked, an expired
// delta token (410) starts a new delta from where the last one stood.
import type { MonitorContext } from '../../core/monitor.js';
import type { NewEvent } from '../../core/event.js';
import { parseDuration } from '../../core/duration.js';
import { backoffDelay } from '../../base/backoff.js';
import { sleep } from '../../base/sleep.js';
import { OAuthError } from '../../core/oauth/index.js';
import type { MailConfig } from './settings.js';
import type { MailCredentials } from './credentials.js';
import { toSnippet, type Address } from './message.js';

export const GRAPH_CURSOR = 'graph:cursor';
const SELECT = 'id,subject,from,toRecipients,ccRecipients,receivedDateTime,sentDateTime,internetMessageId,isRead,isDraft,flag,hasAttachments,bodyPreview,webLink';
const PAGE_SIZE = 50;
/** Ids remembered as emitted: Graph repeats a message in the delta when it changes (read, flagged, moved back). */
const RECENT_IDS = 500;
/** A message older than the newest emitted by more than this is a change to old mail, not new mail. */
const OLD_MAIL_MS = 60 * 60_000;
const RETRY_BASE_MS = 2_000;
const RETRY_CAP_MS = 5 * 60_000;
const SLOW_RETRY_BASE_MS = 5 * 60_000;
const SLOW_RETRY_CAP_MS = 60 * 60_000;
const MAX_RETRY_AFTER_MS = 15 * 60_000;
/** Graph allows thousands of requests per mailbox per 10 minutes; a delta round is one request when nothing changed. */
export const GRAPH_MIN_POLL_MS = 5_000;

export interface GraphCursor {
  /** Where the next request goes: a nextLink mid-round, the deltaLink between rounds. */
  link: string;
  /** receivedDateTime of the newest message emitted (ISO). */
  highWater: string;
  /** When watching began: mail received before is never new, whatever changes it later. */
  since?: string;
  recent: string[];
}

interface GraphRecipient {
  emailAddress?: { name?: string; address?: string };
}

interface GraphMessage {
  id: string;
  '@removed'?: unknown;
  subject?: string | null;
  from?: GraphRecipient | null;
  toRecipients?: GraphRecipient[];
  ccRecipients?: GraphRecipient[];
  receivedDateTime?: string;
  sentDateTime?: string;
  internetMessageId?: string;
  isRead?: boolean;
  isDraft?: boolean;
  flag?: { flagStatus?: string };
  hasAttachments?: boolean;
  bodyPreview?: string;
  webLink?: string;
}

interface GraphPage {
  value?: GraphMessage[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

/** A Graph error in a user's words; `retryAfterMs` when Graph said how long to wait; `slow` when retrying fast is pointless. */
export class GraphError extends Error {
  constructor(message: string, readonly status: number, readonly code: string, readonly opts: { retryAfterMs?: number; slow?: boolean } = {}) {
    super(message);
    this.name = 'GraphError';
  }
}

const folderPath = (folder: string) => (folder.toUpperCase() === 'INBOX' ? 'inbox' : encodeURIComponent(folder));

export class GraphWatcher {
  private failures = 0;
  private readonly base: string;
  private readonly folder: string;

  constructor(
    private readonly ctx: MonitorContext<MailConfig>,
    private readonly creds: MailCredentials,
    private readonly signal: AbortSignal,
  ) {
    this.base = ctx.config.graphUrl.replace(/\/+$/, '');
    this.folder = ctx.config.folders[0] ?? 'INBOX';
  }

  close(): void {}

  async run(): Promise<void> {
    const pollMs = Math.max(GRAPH_MIN_POLL_MS, parseDuration(this.ctx.config.pollInterval));
    while (!this.signal.aborted) {
      let wait = pollMs;
      try {
        await this.round();
        if (this.signal.aborted) return;
        this.failures = 0;
        this.ctx.health.ok(`Microsoft Graph, ${this.folder}: checked every ${Math.round(pollMs / 1000)} s`);
      } catch (err) {
        if (this.signal.aborted) return;
        this.failures++;
        const e = err as GraphError | OAuthError | Error;
        const retryAfter = e instanceof GraphError ? e.opts.retryAfterMs : e instanceof OAuthError ? e.retryAfterMs : undefined;
        const slow = (e instanceof GraphError && e.opts.slow) || (e instanceof OAuthError && e.kind !== 'transient');
        wait = retryAfter !== undefined ? Math.min(MAX_RETRY_AFTER_MS, Math.max(1_000, retryAfter)) : slow ? backoffDelay(this.failures, SLOW_RETRY_BASE_MS, SLOW_RETRY_CAP_MS) : backoffDelay(this.failures, RETRY_BASE_MS, RETRY_CAP_MS);
        this.ctx.log.warn(`Graph: ${e.message}; next try in ${Math.round(wait / 1000)} s`);
        if (e instanceof GraphError && e.status === 429) this.ctx.health.degraded(`Microsoft Graph is throttling; next try in ${Math.round(wait / 1000)} s as it asked`);
        else this.ctx.health.failing(e, wait);
      }
      await sleep(wait, this.signal);
    }
  }

  /** One delta round: from the stored link through every page to the next deltaLink, emitting new messages. */
  async round(): Promise<void> {
    let cur = this.ctx.state.get<GraphCursor>(GRAPH_CURSOR);
    if (!cur) {
      // First start: note where the Inbox stands (a delta over mail from now on) without announcing old mail.
      const now = new Date().toISOString();
      cur = { link: this.startLink(now), highWater: now, since: now, recent: [] };
    }
    for (;;) {
      if (this.signal.aborted) return;
      let page: GraphPage;
      try {
        page = await this.get<GraphPage>(cur.link);
      } catch (err) {
        if (err instanceof GraphError && err.status === 410) {
          // The delta token expired (Graph keeps them for days, not forever): a new delta from the newest mail
          // emitted, less a margin; ids already emitted are skipped.
          this.ctx.log.warn(`Graph: the delta token expired (${err.code}); starting a new delta from ${cur.highWater}`);
          cur = { ...cur, link: this.startLink(new Date(Date.parse(cur.highWater) - OLD_MAIL_MS).toISOString()) };
          this.ctx.state.set(GRAPH_CURSOR, cur);
          continue;
        }
        throw err;
      }
      const messages = (page.value ?? []).filter((m) => !m['@removed'] && m.id).sort((a, b) => String(a.receivedDateTime).localeCompare(String(b.receivedDateTime)));
      for (const m of messages) {
        if (this.signal.aborted) return;
        if (cur.recent.includes(m.id)) continue;
        const received = Date.parse(m.receivedDateTime ?? '');
        if (Number.isFinite(received) && (received < Date.parse(cur.highWater) - OLD_MAIL_MS || (cur.since && received < Date.parse(cur.since)))) continue;
        const highWater = Number.isFinite(received) && received > Date.parse(cur.highWater) ? new Date(received).toISOString() : cur.highWater;
        const next: GraphCursor = { ...cur, highWater, recent: [...cur.recent, m.id].slice(-RECENT_IDS) };
        await this.ctx.emit(graphMessageEvent(m, this.folder, this.creds.account()), { state: { [GRAPH_CURSOR]: next } });
        cur = next;
      }
      const link = page['@odata.nextLink'] ?? page['@odata.deltaLink'];
      if (!link) throw new GraphError('Graph answered a delta page with neither @odata.nextLink nor @odata.deltaLink', 200, 'protocol');
      cur = { ...cur, link };
      this.ctx.state.set(GRAPH_CURSOR, cur);
      if (!page['@odata.nextLink']) return;
    }
  }

  private startLink(since: string): string {
    const q = new URLSearchParams({ $select: SELECT, $filter: `receivedDateTime ge ${since}` });
    return `${this.base}/me/mailFolders/${folderPath(this.folder)}/messages/delta?${q.toString().replace(/\+/g, '%20')}`;
  }

  private get<T>(url: string): Promise<T> {
    return graphGet<T>(this.ctx, this.creds, this.base, url);
  }
}

/** GET a Graph URL with a fresh token; a 401 refreshes once. Links must stay on the configured Graph host. */
export async function graphGet<T>(ctx: MonitorContext<MailConfig>, creds: MailCredentials, base: string, url: string): Promise<T> {
  if (new URL(url).origin !== new URL(base).origin) throw new GraphError(`Graph sent a link to another host (${new URL(url).host}); refusing to send the token there`, 0, 'protocol', { slow: true });
  for (let attempt = 0; ; attempt++) {
    const login = await creds.login();
    const token = 'accessToken' in login ? login.accessToken : '';
    const res = await ctx.fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json', prefer: `odata.maxpagesize=${PAGE_SIZE}, IdType="ImmutableId"` }, timeoutMs: 30_000, maxBytes: 8 * 1024 * 1024 });
    if (res.ok) {
      try {
        return JSON.parse(res.body.toString('utf8')) as T;
      } catch {
        throw new GraphError('Graph answered with something that is not JSON', res.status, 'protocol');
      }
    }
    if (res.status === 401 && attempt === 0) {
      creds.tokenRefused();
      continue;
    }
    throw graphError(res.status, res.body.toString('utf8'), res.headers.get('retry-after'), creds);
  }
}

export function graphError(status: number, text: string, retryAfter: string | null, creds?: MailCredentials): GraphError {
  let code = '';
  let said = '';
  try {
    const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
    code = e?.code ?? '';
    said = e?.message ?? '';
  } catch {
    said = text.slice(0, 200);
  }
  const detail = said ? ` (Graph: ${said.replace(/\s+/g, ' ').slice(0, 200)})` : '';
  const wait = retryAfter && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) * 1000 : undefined;
  if (status === 429 || status === 503 || status === 504) return new GraphError(`Microsoft Graph asks to wait (HTTP ${status})${detail}`, status, code || 'throttled', { retryAfterMs: wait ?? (status === 429 ? 30_000 : undefined) });
  if (status === 410) return new GraphError(`the delta token expired${detail}`, status, code || 'SyncStateNotFound');
  if (status === 401) return new GraphError(`Graph refused the sign-in token${detail}${creds?.authHint().replace(/ — is IMAP enabled.*$/, '') ?? ''}`, status, code, { slow: true });
  if (status === 403) return new GraphError(`the sign-in does not allow reading mail: sign in again and allow "Read your mail" (Mail.Read)${detail}`, status, code, { slow: true });
  if (status === 404 && /MailboxNotEnabledForRESTAPI|ResourceNotFound|ErrorInvalidUser|MailboxNotFound/i.test(code)) {
    return new GraphError(`this Microsoft account has no mailbox Graph can read (no Exchange Online licence, or the mailbox is on-premises); use IMAP or another account${detail}`, status, code, { slow: true });
  }
  if (status === 404) return new GraphError(`Graph does not know this folder${detail}`, status, code, { slow: true });
  return new GraphError(`Microsoft Graph answered HTTP ${status}${detail}`, status, code);
}

const address = (r: GraphRecipient | null | undefined): Address => ({ name: r?.emailAddress?.name ?? '', address: r?.emailAddress?.address ?? '' });

/** The same `mail.received` event as IMAP gives, from Graph's message resource. */
export function graphMessageEvent(m: GraphMessage, folder: string, account: string): NewEvent {
  const snippet = toSnippet(m.bodyPreview ?? '');
  const sent = m.sentDateTime ? new Date(m.sentDateTime) : null;
  const received = m.receivedDateTime ? new Date(m.receivedDateTime) : null;
  const flags = [...(m.isRead ? ['\\Seen'] : []), ...(m.flag?.flagStatus === 'flagged' ? ['\\Flagged'] : []), ...(m.isDraft ? ['\\Draft'] : [])];
  return {
    type: 'mail.received',
    ts: received && !Number.isNaN(received.getTime()) ? received : new Date(),
    title: m.subject || '(no subject)',
    body: snippet,
    url: m.webLink && /^https:\/\//.test(m.webLink) ? m.webLink : null,
    fields: {
      account,
      folder,
      uid: null,
      graphId: m.id,
      from: address(m.from),
      to: (m.toRecipients ?? []).map(address),
      cc: (m.ccRecipients ?? []).map(address),
      subject: m.subject ?? '',
      date: sent && !Number.isNaN(sent.getTime()) ? sent.toISOString() : null,
      messageId: m.internetMessageId ?? null,
      flags,
      // Graph's message resource carries no size; null rather than a made-up number.
      size: null,
      hasAttachments: Boolean(m.hasAttachments),
      snippet,
    },
    tags: ['mail'],
  };
}

/** Dry run: the folder's counts and its newest few messages, as if new. */
export async function previewGraph(ctx: MonitorContext<MailConfig>, creds: MailCredentials, newest = 5): Promise<void> {
  const base = ctx.config.graphUrl.replace(/\/+$/, '');
  const folder = ctx.config.folders[0] ?? 'INBOX';
  const info = await graphGet<{ displayName?: string; totalItemCount?: number; unreadItemCount?: number }>(ctx, creds, base, `${base}/me/mailFolders/${folderPath(folder)}`);
  const account = creds.account();
  const exists = info.totalItemCount ?? 0;
  await ctx.emit({
    type: 'mail.folder',
    title: `${account} ${info.displayName ?? folder}: ${exists} message${exists === 1 ? '' : 's'}`,
    body: `${info.unreadItemCount ?? 0} unread; new mail is fetched from Microsoft Graph by delta query.`,
    fields: { account, folder, exists, uidValidity: null, uidNext: null, idle: false },
    tags: ['mail'],
  });
  const q = new URLSearchParams({ $select: SELECT, $top: String(newest), $orderby: 'receivedDateTime desc' });
  const page = await graphGet<GraphPage>(ctx, creds, base, `${base}/me/mailFolders/${folderPath(folder)}/messages?${q.toString().replace(/\+/g, '%20')}`);
  const messages = (page.value ?? []).sort((a, b) => String(a.receivedDateTime).localeCompare(String(b.receivedDateTime)));
  for (const m of messages) await ctx.emit(graphMessageEvent(m, folder, account));
}
