// One IMAP connection watching one folder: push through IDLE (polling where the server has none), a NOOP
// watchdog for connections that went silent, reconnects with backoff, and exactly-once delivery from the
// persisted (UIDVALIDITY, last UID) pair — after any gap it fetches what arrived meanwhile, in UID order.
import type { ImapFlow, FetchMessageObject } from 'imapflow';
import type { MonitorContext } from '../../core/monitor.js';
import { parseDuration } from '../../core/duration.js';
import { backoffDelay } from '../../base/backoff.js';
import { withTimeout } from '../../base/timeout.js';
import { FETCH_QUERY, messageEvent } from './message.js';
import { assertPlainOnlyOnLoopback, imapPort, type MailConfig } from './settings.js';
import { CertificateError, certificateProblem, readCaFile } from '../../base/tls.js';
import { OAuthError } from '../../core/oauth/index.js';
import type { Login, MailCredentials } from './credentials.js';

export interface FolderCursor {
  uidValidity: string;
  lastUid: number;
}

export type FolderStatus = { status: 'ok'; message: string } | { status: 'failing'; error: Error; retryInMs: number };

const BATCH = 50;
const MAX_NOOP_WAIT_MS = 15_000;
const RETRY_BASE_MS = 1_000;
const RETRY_CAP_MS = 5 * 60_000;
/** A wrong password does not fix itself; retrying fast would only get the account locked. */
const AUTH_RETRY_BASE_MS = 5 * 60_000;
const AUTH_RETRY_CAP_MS = 60 * 60_000;

export const cursorKey = (folder: string) => `cursor:${folder}`;

/** Shown in the health line, so a user sees the connection is encrypted and the certificate was checked. */
const SECURITY_NOTE = { tls: 'TLS, certificate verified', starttls: 'STARTTLS, certificate verified', plain: 'unencrypted (this machine only)' } as const;

export class AuthFailedError extends Error {
  constructor(user: string, serverText?: string) {
    super(`authentication failed for "${user}"${serverText ? ` (server: ${serverText.slice(0, 200)})` : ''}`);
    this.name = 'AuthFailedError';
  }
}

/** imapflow (with its mail parsers and logger, ~25 MB) is loaded when the first account connects, not at start. */
export async function openClient(config: MailConfig, login: Login): Promise<ImapFlow> {
  const { ImapFlow } = await import('imapflow');
  const host = config.host ?? '';
  assertPlainOnlyOnLoopback(config.security, host, 'IMAP');
  const ca = config.security === 'plain' ? undefined : readCaFile(config.ca);
  return new ImapFlow({
    host,
    port: imapPort(config),
    secure: config.security === 'tls',
    doSTARTTLS: config.security === 'starttls' ? true : config.security === 'plain' ? false : undefined,
    // Always verified (Node's default); a private CA replaces the system's CAs rather than adding to them.
    tls: { rejectUnauthorized: true, minVersion: 'TLSv1.2', ...(ca ? { ca } : {}) },
    // With a token imapflow signs in with SASL OAUTHBEARER or XOAUTH2 (Gmail, Microsoft 365, Dovecot's oauth2 passdb).
    auth: 'accessToken' in login ? { user: login.user, accessToken: login.accessToken } : { user: login.user, pass: login.pass },
    logger: false,
    clientInfo: { name: 'Panoptes' },
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    // Re-issue IDLE now and then: some servers and NAT boxes drop idle connections silently after ~30 min.
    maxIdleTime: 5 * 60_000,
    missingIdleCommand: 'NOOP',
    // imapflow waits 15 s after a command before it IDLEs; mail arriving meanwhile would wait too.
    autoIdleDelay: 100,
  });
}

/** Turn what imapflow throws into something a user can act on (never including the password). */
export function describeError(err: unknown, config: MailConfig, creds?: MailCredentials): Error {
  if (err instanceof OAuthError) return err;
  const e = err as { authenticationFailed?: boolean; serverResponseCode?: string; responseText?: string; code?: string; message?: string };
  // RFC 5530: UNAVAILABLE is the server's own trouble (Dovecot: its auth backend is down or timed out), not a wrong
  // password, so it is retried like a dropped connection rather than after minutes.
  if (e?.authenticationFailed && (e.serverResponseCode === 'UNAVAILABLE' || /^Temporary authentication failure/i.test(e.responseText ?? ''))) {
    return new Error(`the server could not check the password right now (UNAVAILABLE${e.responseText ? `: ${e.responseText.slice(0, 200)}` : ''}); temporary, retrying`);
  }
  if (e?.authenticationFailed) {
    if (creds?.usesOAuth) {
      creds.tokenRefused();
      const f = new AuthFailedError(creds.user(), e.responseText);
      f.message += creds.authHint();
      return f;
    }
    return new AuthFailedError(config.username ?? '', e.responseText);
  }
  const where = `${config.host}:${imapPort(config)}`;
  const refused = certificateProblem(err, where, config.ca);
  if (refused) return refused;
  if (config.security === 'starttls' && /does not support STARTTLS/i.test(e?.message ?? '')) return new Error(`${where} does not offer STARTTLS; choose TLS, or plain for a server on this machine`);
  if (e?.code === 'ECONNREFUSED') return new Error(`connection refused by ${where}`);
  if (e?.code === 'ETIMEDOUT' || e?.code === 'CONNECT_TIMEOUT' || e?.code === 'GREETING_TIMEOUT') return new Error(`no answer from ${where}`);
  if (e?.code === 'ENOTFOUND') return new Error(`unknown host ${config.host}`);
  if (err instanceof Error) return err;
  return new Error(String(err));
}

export class FolderWatcher {
  private client: ImapFlow | null = null;
  private readonly account: string;

  constructor(
    private readonly ctx: MonitorContext<MailConfig>,
    private readonly folder: string,
    private readonly report: (folder: string, status: FolderStatus) => void,
    private readonly signal: AbortSignal,
    private readonly creds: MailCredentials,
  ) {
    this.account = creds.account();
  }

  /** Runs until the signal aborts: connect, catch up, watch; on any loss wait (backoff) and start over. */
  run(): Promise<void> {
    return this.ctx.reconnect(
      async (_signal, up) => {
        try {
          await this.session(up);
        } catch (err) {
          throw describeError(err, this.ctx.config, this.creds);
        }
        return new Error('connection closed by the server');
      },
      {
        signal: this.signal,
        baseMs: RETRY_BASE_MS,
        capMs: RETRY_CAP_MS,
        // A wrong password, a refused certificate or a sign-in that needs renewing does not fix itself: retry
        // slowly. A refused token is retried once soon with a refreshed one (a revoked grant shows up there).
        delayFor: (failure, failures) =>
          (failure instanceof AuthFailedError && !this.creds.refreshPending()) || failure instanceof CertificateError || (failure instanceof OAuthError && failure.kind !== 'transient')
            ? backoffDelay(failures, AUTH_RETRY_BASE_MS, AUTH_RETRY_CAP_MS)
            : undefined,
        onDown: (failure, delay) => {
          this.ctx.log.warn(`${this.folder}: ${failure.message}; reconnecting in ${Math.round(delay / 1000)} s`);
          this.report(this.folder, { status: 'failing', error: failure, retryInMs: delay });
        },
      },
    );
  }

  close(): void {
    this.client?.close();
  }

  private async session(up: () => void): Promise<void> {
    const client = await openClient(this.ctx.config, await this.creds.login());
    this.client = client;
    let lastError: unknown = null;
    let onClosed!: () => void;
    const closed = new Promise<void>((r) => (onClosed = r));
    let isClosed = false;
    client.on('error', (err: unknown) => (lastError ??= err));
    client.on('close', () => {
      isClosed = true;
      onClosed();
    });
    const drop = (err: unknown) => {
      lastError ??= err;
      client.close();
    };
    const timers: Array<() => void> = [];
    try {
      await client.connect();
      await client.mailboxOpen(this.folder, { readOnly: true });

      // Serialise catch-ups: an EXISTS during a catch-up asks for one more round, never a parallel one.
      let running: Promise<void> | null = null;
      let again = false;
      const requestSync = (): Promise<void> => {
        if (running) {
          again = true;
          return running;
        }
        running = (async () => {
          do {
            again = false;
            await this.catchUp(client);
          } while (again && !isClosed && !this.signal.aborted);
        })()
          .catch(drop)
          .finally(() => (running = null));
        return running;
      };
      client.on('exists', () => void requestSync());
      await requestSync();
      if (lastError) throw lastError;

      const pushes = client.capabilities.has('IDLE');
      const keepaliveMs = parseDuration(this.ctx.config.keepalive);
      const watchdog = () => {
        const wait = Math.min(MAX_NOOP_WAIT_MS, keepaliveMs);
        withTimeout(client.noop(), wait).then(
          () => timers.push(this.ctx.setTimeout(watchdog, keepaliveMs)),
          () => drop(new Error(`the server did not answer a NOOP within ${Math.round(wait / 1000)} s (connection dead?)`)),
        );
      };
      timers.push(this.ctx.setTimeout(watchdog, keepaliveMs));
      if (!pushes) {
        const pollMs = Math.max(30_000, parseDuration(this.ctx.config.pollInterval));
        const poll = () => {
          void requestSync().then(() => timers.push(this.ctx.setTimeout(poll, pollMs)));
        };
        timers.push(this.ctx.setTimeout(poll, pollMs));
      }

      up();
      const how = pushes ? 'push (IDLE)' : `polling every ${Math.round(Math.max(30_000, parseDuration(this.ctx.config.pollInterval)) / 1000)} s`;
      this.report(this.folder, { status: 'ok', message: `${how}, ${SECURITY_NOTE[this.ctx.config.security]}` });
      const onAbort = () => client.close();
      this.signal.addEventListener('abort', onAbort, { once: true });
      try {
        await closed;
      } finally {
        this.signal.removeEventListener('abort', onAbort);
      }
      if (!this.signal.aborted) throw lastError ?? new Error('connection closed by the server');
    } finally {
      for (const cancel of timers) cancel();
      if (!isClosed) client.close();
      this.client = null;
    }
  }

  /**
   * Emit every message above the saved UID, oldest first. The cursor is written in the same transaction as each
   * event, so a crash can neither repeat a stored message nor skip one that was not stored.
   */
  private async catchUp(client: ImapFlow): Promise<void> {
    const mailbox = client.mailbox;
    if (!mailbox) throw new Error(`folder ${this.folder} is not open`);
    const uidValidity = String(mailbox.uidValidity);
    const key = cursorKey(this.folder);
    const saved = this.ctx.state.get<FolderCursor>(key);
    if (!saved || saved.uidValidity !== uidValidity) {
      // First run, or the server renumbered the folder: start from what is there now instead of announcing
      // the whole folder as new.
      const lastUid = await highestUid(client);
      this.ctx.state.set(key, { uidValidity, lastUid } satisfies FolderCursor);
      if (saved) this.ctx.log.warn(`${this.folder}: UIDVALIDITY changed (${saved.uidValidity} → ${uidValidity}); starting again from UID ${lastUid} without re-announcing old mail`);
      return;
    }
    const found = (await client.search({ uid: `${saved.lastUid + 1}:*` }, { uid: true })) || [];
    // "N:*" always matches the highest message, even when its UID is below N.
    const fresh = found.filter((u) => u > saved.lastUid).sort((a, b) => a - b);
    for (let i = 0; i < fresh.length; i += BATCH) {
      const batch = fresh.slice(i, i + BATCH);
      const messages = (await client.fetchAll(batch.join(','), FETCH_QUERY, { uid: true })).sort((a, b) => a.uid - b.uid);
      for (const msg of messages) {
        if (this.signal.aborted) return;
        const event = await messageEvent(client, msg, this.folder, this.account);
        await this.ctx.emit(event, { state: { [key]: { uidValidity, lastUid: msg.uid } satisfies FolderCursor } });
      }
    }
  }
}

async function highestUid(client: ImapFlow): Promise<number> {
  const mailbox = client.mailbox;
  if (mailbox && mailbox.uidNext) return mailbox.uidNext - 1;
  if (!mailbox || !mailbox.exists) return 0;
  const last = await client.fetchOne('*', { uid: true });
  return last ? last.uid : 0;
}

/** Dry run: connect, describe the folder, and emit its newest few messages as if new — changing nothing. */
export async function previewFolder(ctx: MonitorContext<MailConfig>, folder: string, creds: MailCredentials, newest = 5): Promise<void> {
  const client = await openClient(ctx.config, await creds.login());
  client.on('error', () => {});
  try {
    await client.connect();
    const mb = await client.mailboxOpen(folder, { readOnly: true });
    const account = creds.account();
    const pushes = client.capabilities.has('IDLE');
    await ctx.emit({
      type: 'mail.folder',
      title: `${account} ${folder}: ${mb.exists} message${mb.exists === 1 ? '' : 's'}`,
      body: `UIDVALIDITY ${mb.uidValidity}, next UID ${mb.uidNext}; new mail arrives by ${pushes ? 'push (IDLE)' : 'polling'}.`,
      fields: { account, folder, exists: mb.exists, uidValidity: String(mb.uidValidity), uidNext: mb.uidNext, idle: pushes },
      tags: ['mail'],
    });
    if (mb.exists > 0) {
      const from = Math.max(1, mb.exists - newest + 1);
      const messages: FetchMessageObject[] = (await client.fetchAll(`${from}:*`, FETCH_QUERY)).sort((a, b) => a.uid - b.uid);
      for (const msg of messages) await ctx.emit(await messageEvent(client, msg, folder, account));
    }
    await client.logout();
  } catch (err) {
    client.close();
    throw describeError(err, ctx.config, creds);
  }
}
