// A local stand-in for Microsoft Graph's mail endpoints, answering in Graph's documented formats: the Inbox
// (/me/mailFolders/inbox), its messages ($top, $orderby) and their delta query (/messages/delta with
// $filter=receivedDateTime ge …, pages of odata.maxpagesize with @odata.nextLink, then @odata.deltaLink; later
// rounds return what changed since, including changed old messages and @removed entries). Bearer tokens are checked
// against the local authorization server; throttling (429 + Retry-After), an expired delta token (410
// SyncStateNotFound) and an account without a mailbox (404 MailboxNotEnabledForRESTAPI) can be switched on.
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { startTestServer, type TestServer } from './http-server.js';

export interface GraphMessage {
  id: string;
  subject: string;
  from: { emailAddress: { name: string; address: string } };
  toRecipients: { emailAddress: { name: string; address: string } }[];
  ccRecipients: { emailAddress: { name: string; address: string } }[];
  receivedDateTime: string;
  sentDateTime: string;
  internetMessageId: string;
  isRead: boolean;
  isDraft: boolean;
  flag: { flagStatus: string };
  hasAttachments: boolean;
  bodyPreview: string;
  webLink: string;
}

export interface GraphTestServer {
  readonly server: TestServer;
  /** What the mail monitor's `graphUrl` should be. */
  readonly baseUrl: string;
  deliver(subject: string, extra?: Partial<GraphMessage>): GraphMessage;
  /** Change an existing message (read it): it shows up in the next delta again. */
  markRead(id: string): void;
  remove(id: string): void;
  /** The next `count` requests get 429 with this Retry-After (seconds). */
  throttle(count: number, retryAfterSeconds: number): void;
  /** Every delta token handed out so far stops working (410). */
  expireDeltaTokens(): void;
  /** The account has no Exchange Online mailbox. */
  noMailbox: boolean;
  readonly counts: { delta: number; throttled: number; gone: number; unauthorized: number };
  /** Times at which requests arrived (ms), to check Retry-After was honoured. */
  readonly requestTimes: number[];
  close(): Promise<void>;
}

interface Versioned {
  msg: GraphMessage;
  version: number;
  removed: boolean;
}

export async function startGraphServer(isActive: (token: string) => { scope: string } | null, pageSize = 3, delayMs = 0): Promise<GraphTestServer> {
  const server = await startTestServer();
  const base = server.url('/v1.0');
  const messages: Versioned[] = [];
  let version = 0;
  let throttleLeft = 0;
  let throttleSeconds = 1;
  let generation = 0;
  const counts = { delta: 0, throttled: 0, gone: 0, unauthorized: 0 };
  const requestTimes: number[] = [];
  /** Paging state behind an opaque skiptoken: the ids of the round and where the next page starts. */
  const skips = new Map<string, { ids: string[]; offset: number; upTo: number; gen: number }>();
  /** Delta tokens: the version they were handed out at. */
  const deltas = new Map<string, { version: number; gen: number }>();

  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; odata.metadata=minimal', ...headers });
    res.end(JSON.stringify(body));
  };
  const error = (res: http.ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}) =>
    json(res, status, { error: { code, message, innerError: { date: new Date().toISOString(), 'request-id': randomBytes(8).toString('hex') } } }, headers);

  /** Checks common to every endpoint; false when it already answered. */
  const gate = (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    requestTimes.push(Date.now());
    const token = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
    const info = isActive(token);
    if (!info) {
      counts.unauthorized++;
      error(res, 401, 'InvalidAuthenticationToken', 'Access token has expired or is not yet valid.');
      return false;
    }
    if (!/mail\.read/i.test(info.scope)) {
      error(res, 403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
      return false;
    }
    if (throttleLeft > 0) {
      throttleLeft--;
      counts.throttled++;
      error(res, 429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'retry-after': String(throttleSeconds) });
      return false;
    }
    if (api.noMailbox) {
      error(res, 404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
      return false;
    }
    return true;
  };

  const page = (res: http.ServerResponse, ids: string[], offset: number, upTo: number, sinceVersion: number | null) => {
    const size = pageSize;
    const slice = ids.slice(offset, offset + size);
    const value = slice.map((id) => {
      const v = messages.find((m) => m.msg.id === id)!;
      return v.removed ? { '@odata.type': '#microsoft.graph.message', id, '@removed': { reason: 'deleted' } } : { '@odata.type': '#microsoft.graph.message', '@odata.etag': `W/"${v.version}"`, ...v.msg };
    });
    const body: Record<string, unknown> = { '@odata.context': `${base}/$metadata#Collection(message)`, value };
    if (offset + size < ids.length) {
      const skip = randomBytes(12).toString('base64url');
      skips.set(skip, { ids, offset: offset + size, upTo, gen: generation });
      body['@odata.nextLink'] = `${base}/me/mailFolders('inbox')/messages/delta?$skiptoken=${skip}`;
    } else {
      const token = randomBytes(12).toString('base64url');
      deltas.set(token, { version: upTo, gen: generation });
      body['@odata.deltaLink'] = `${base}/me/mailFolders('inbox')/messages/delta?$deltatoken=${token}`;
    }
    void sinceVersion;
    json(res, 200, body);
  };

  const delta = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    if (!gate(req, res)) return;
    counts.delta++;
    const q = new URL(req.url ?? '/', server.origin).searchParams;
    const skip = q.get('$skiptoken');
    const dtoken = q.get('$deltatoken');
    if (skip) {
      const s = skips.get(skip);
      // A nextLink can be fetched again (a client that crashed mid-round does): same page.
      if (!s || s.gen !== generation) {
        counts.gone++;
        return error(res, 410, 'SyncStateNotFound', 'The sync state generation is not found.');
      }
      return page(res, s.ids, s.offset, s.upTo, null);
    }
    if (dtoken) {
      const d = deltas.get(dtoken);
      if (!d || d.gen !== generation) {
        counts.gone++;
        return error(res, 410, 'SyncStateNotFound', 'The sync state generation is not found.');
      }
      const changed = messages.filter((m) => m.version > d.version).sort((a, b) => a.version - b.version).map((m) => m.msg.id);
      return page(res, changed, 0, version, d.version);
    }
    // A new delta: the messages the filter selects, as they are now.
    const filter = /receivedDateTime ge (\S+)/.exec(q.get('$filter') ?? '');
    const since = filter ? Date.parse(filter[1]!) : -Infinity;
    const ids = messages.filter((m) => !m.removed && Date.parse(m.msg.receivedDateTime) >= since).map((m) => m.msg.id);
    page(res, ids, 0, version, null);
  };
  server.route('/v1.0/me/mailFolders/inbox/messages/delta', delta);
  server.route("/v1.0/me/mailFolders('inbox')/messages/delta", delta);
  server.route('/v1.0/me/mailFolders/inbox', (req, res) => {
    if (!gate(req, res)) return;
    const live = messages.filter((m) => !m.removed);
    json(res, 200, { id: 'AAMkInbox', displayName: 'Inbox', totalItemCount: live.length, unreadItemCount: live.filter((m) => !m.msg.isRead).length });
  });
  server.route('/v1.0/me/mailFolders/inbox/messages', (req, res) => {
    if (!gate(req, res)) return;
    const q = new URL(req.url ?? '/', server.origin).searchParams;
    const top = Number(q.get('$top') ?? 10);
    const live = messages.filter((m) => !m.removed).map((m) => m.msg).sort((a, b) => b.receivedDateTime.localeCompare(a.receivedDateTime));
    json(res, 200, { value: live.slice(0, top) });
  });

  let seq = 0;
  const api: GraphTestServer = {
    server,
    baseUrl: base,
    noMailbox: false,
    counts,
    requestTimes,
    deliver(subject, extra = {}) {
      const now = new Date(Date.now() + seq++).toISOString();
      const msg: GraphMessage = {
        id: `AAMk${randomBytes(9).toString('base64url')}`,
        subject,
        from: { emailAddress: { name: 'Bob Example', address: 'bob@example.org' } },
        toRecipients: [{ emailAddress: { name: 'Alice', address: 'alice@example.org' } }],
        ccRecipients: [],
        receivedDateTime: now,
        sentDateTime: now,
        internetMessageId: `<${randomBytes(6).toString('hex')}@example.org>`,
        isRead: false,
        isDraft: false,
        flag: { flagStatus: 'notFlagged' },
        hasAttachments: false,
        bodyPreview: `Preview of ${subject}`,
        webLink: `https://outlook.office365.com/owa/?ItemID=${seq}`,
        ...extra,
      };
      messages.push({ msg, version: ++version, removed: false });
      return msg;
    },
    markRead(id) {
      const m = messages.find((x) => x.msg.id === id);
      if (m) {
        m.msg.isRead = true;
        m.version = ++version;
      }
    },
    remove(id) {
      const m = messages.find((x) => x.msg.id === id);
      if (m) {
        m.removed = true;
        m.version = ++version;
      }
    },
    throttle(count, seconds) {
      throttleLeft = count;
      throttleSeconds = seconds;
    },
    expireDeltaTokens() {
      generation++;
    },
    close: () => server.close(),
  };
  return api;
}
