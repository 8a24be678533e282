// Mail monitor: one IMAP account, any number of folders, `mail.received` for every new message — exactly once,
// across disconnects and restarts. The account's SMTP settings serve the `email` action (see send.ts).
import type { MonitorDefinition } from '../../core/monitor.js';
import { emailExecutor, emailRuleAction } from './actions.js';
import { FolderWatcher, previewFolder, type FolderStatus } from './folder-watcher.js';
import { imapPort, mailConfigSchema, oauthClientOf, type MailConfig } from './settings.js';
import { MailCredentials } from './credentials.js';
import { GraphWatcher, previewGraph } from './graph-watcher.js';

const mail: MonitorDefinition<MailConfig> = {
  type: 'mail',
  badge: 'MAIL',
  category: 'Messages',
  title: 'Mail',
  description:
    'Watches folders of an IMAP mailbox (or a Microsoft 365 / Outlook.com Inbox through Microsoft Graph) and emits an event for each new message, pushed by the server (IMAP IDLE) where it can. ' +
    'Sign in with a password (an app password for Gmail) or with Google / Microsoft in the browser. ' +
    'The first start only notes where the folder stands; after a disconnect or a restart whatever arrived meanwhile is emitted once. ' +
    'Nothing on the server is changed: folders are opened read-only, so messages stay unread.',
  configSchema: mailConfigSchema,
  minIntervalMs: 30_000,
  oauth: {
    grantField: 'oauthGrant',
    client: oauthClientOf,
    fields: { provider: 'oauthProvider', clientId: 'oauthClientId', clientSecret: 'oauthClientSecret', tenant: 'oauthTenant', issuer: 'oauthIssuer', scopes: 'oauthScopes' },
    shownWhen: { field: 'auth', equals: 'oauth2' },
    providerField: 'oauthProvider',
    providerNames: { google: 'Google', microsoft: 'Microsoft', generic: 'your provider' },
  },
  events: [
    {
      type: 'mail.received',
      description: 'A new message arrived in a watched folder. Title: the subject; body: the snippet.',
      fields: {
        account: 'The account name (config "account", or user@host).',
        folder: 'The folder it arrived in, e.g. INBOX.',
        uid: 'Its IMAP UID in that folder (with Graph: null; see graphId).',
        graphId: 'With Microsoft Graph: the message id (else absent).',
        from: '{ name, address } of the sender.',
        to: 'List of { name, address }.',
        cc: 'List of { name, address }.',
        subject: 'The subject, with encoded words (RFC 2047) decoded.',
        date: 'The Date header as ISO time, or null.',
        messageId: 'The Message-ID header.',
        flags: 'IMAP flags, e.g. ["\\\\Seen"].',
        size: 'Size in bytes.',
        hasAttachments: 'True when a part is an attachment.',
        snippet: 'The first 500 characters of the text (HTML converted to text); only that much of the body is downloaded.',
      },
    },
    {
      type: 'mail.signin_required',
      description: 'The provider no longer accepts the account\'s sign-in (revoked, expired, password changed): open the monitor and sign in again. Once per sign-in.',
      fields: {
        account: 'The account name.',
        provider: 'Google, Microsoft, or the provider\'s host.',
        reason: 'What the provider said.',
      },
    },
    {
      type: 'mail.folder',
      description: 'Only in a dry run ("monitor test"): the state of each watched folder, before its newest messages.',
      fields: {
        account: 'The account name.',
        folder: 'The folder.',
        exists: 'Number of messages in it.',
        uidValidity: 'The folder\'s UIDVALIDITY (a change means the server renumbered it).',
        uidNext: 'The UID the next message will get.',
        idle: 'Whether the server pushes new mail (IMAP IDLE).',
      },
    },
  ],
  actions: { email: { rule: emailRuleAction, executor: emailExecutor } },
  // The account and each folder watched: another account, or another folder of it, is another source.
  sources: (c) => c.folders.map((f) => (c.source === 'graph' ? `graph ${(c.username ?? c.account ?? '').toLowerCase()} ${f}` : `imap ${(c.host ?? '').toLowerCase()}:${imapPort(c)} ${(c.username ?? '').toLowerCase()} ${f}`)),
  create(ctx) {
    const controller = new AbortController();
    const stopOnHost = () => controller.abort();
    const statuses = new Map<string, FolderStatus>();
    const watchers: Array<FolderWatcher | GraphWatcher> = [];
    const creds = new MailCredentials(ctx);
    let loops: Promise<void>[] = [];

    // One health for the account: failing if any folder is, naming it; ok once every folder is watched.
    const report = (folder: string, status: FolderStatus) => {
      statuses.set(folder, status);
      const failing = [...statuses.entries()].filter(([, s]) => s.status === 'failing');
      if (failing.length) {
        const [name, s] = failing[0]! as [string, Extract<FolderStatus, { status: 'failing' }>];
        const err = ctx.config.folders.length > 1 ? new Error(`${name}: ${s.error.message}`) : s.error;
        ctx.health.failing(err, s.retryInMs);
      } else if (statuses.size === ctx.config.folders.length) {
        ctx.health.ok(ctx.config.folders.map((f) => `${f}: ${(statuses.get(f) as { message: string }).message}`).join(', '));
      }
    };

    return {
      async start() {
        const graph = ctx.config.source === 'graph';
        if (ctx.dryRun) {
          if (graph) return previewGraph(ctx, creds);
          for (const folder of ctx.config.folders) await previewFolder(ctx, folder, creds);
          return;
        }
        ctx.signal.addEventListener('abort', stopOnHost, { once: true });
        // Not "ok" until every folder is open and caught up; start() itself returns at once, the watchers connect
        // (and retry) in the background.
        ctx.health.degraded(`connecting to ${graph ? 'Microsoft Graph' : ctx.config.host}`);
        creds.keepFresh();
        if (graph) {
          const w = new GraphWatcher(ctx, creds, controller.signal);
          watchers.push(w);
          loops.push(w.run().catch((err) => ctx.log.error(`Graph watcher crashed: ${(err as Error).message}`)));
          return;
        }
        for (const folder of ctx.config.folders) {
          const w = new FolderWatcher(ctx, folder, report, controller.signal, creds);
          watchers.push(w);
          loops.push(w.run().catch((err) => ctx.log.error(`${folder}: watcher crashed: ${(err as Error).message}`)));
        }
      },
      async stop() {
        controller.abort();
        creds.stop();
        ctx.signal.removeEventListener('abort', stopOnHost);
        for (const w of watchers) w.close();
        await Promise.all(loops);
        loops = [];
      },
    };
  },
};

export default mail;
