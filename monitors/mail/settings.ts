// The mail account's settings as the user fills them in: IMAP for watching, SMTP for the `email` action.
import { z } from 'zod';
import { isDuration } from '../../core/duration.js';
import { GOOGLE_MAIL_SCOPE, MICROSOFT_GRAPH_MAIL_SCOPE, MICROSOFT_IMAP_SCOPES, ProviderSettingsError, type OAuthClientSettings } from '../../core/oauth/index.js';

export type Security = 'tls' | 'starttls' | 'plain';

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|::1|\[::1\])$/i;
export const isLoopback = (host: string): boolean => LOOPBACK.test(host.trim());

/** Plain (unencrypted) connections would send the password in the clear: only to this machine. */
export function assertPlainOnlyOnLoopback(security: Security, host: string, what: string): void {
  if (security === 'plain' && !isLoopback(host)) {
    throw new Error(`${what}: plain (unencrypted) connections are only allowed to 127.0.0.1/localhost; use TLS or STARTTLS for ${host}`);
  }
}

const security = (label: string) =>
  z.enum(['tls', 'starttls', 'plain']).meta({
    label,
    help: 'TLS from the first byte (usual on ports 993/465), STARTTLS upgrade (143/587), or plain — plain only to a server on this machine.',
  });

const duration = (label: string, help: string) =>
  z.string().refine(isDuration, { message: 'write a duration like "45s", "2m" or "1h"' }).meta({ label, help });

export const smtpFields = {
  smtpHost: z.string().min(1).optional().meta({ label: 'SMTP server', help: 'Host name of the outgoing mail server, for the "email" action. Leave empty if this account does not send.' }),
  smtpPort: z.number().int().min(1).max(65535).optional().meta({ label: 'SMTP port', help: 'Defaults to 465 with TLS, 587 with STARTTLS, 25 plain.' }),
  smtpSecurity: security('SMTP security').default('starttls'),
  smtpUsername: z.string().optional().meta({ label: 'SMTP user name', help: 'Leave empty to use the IMAP user name; some local relays need none.' }),
  smtpPassword: z.string().optional().meta({ label: 'SMTP password', help: 'Stored in the secret store; leave empty to use the IMAP password.', secret: true }),
  from: z.string().optional().meta({ label: 'From address', help: 'Sender of mail the "email" action sends, e.g. "Me <me@example.org>". Defaults to the user name.' }),
};

/** Sign-in with OAuth instead of a password (Google, Microsoft 365 / Outlook.com, or a provider by issuer URL). */
export const oauthFields = {
  auth: z.enum(['password', 'oauth2']).default('password').meta({
    label: 'Sign-in',
    help: '"password": the account\'s password — for Gmail an app password (Google account → Security → App passwords, needs 2-step verification). "oauth2": "Sign in with Google / Microsoft" in the browser; no password is stored, only the sign-in, which Panoptes renews on its own. Microsoft 365 accepts only this.',
  }),
  oauthProvider: z.enum(['google', 'microsoft', 'generic']).optional().meta({ label: 'Provider', help: 'Who you sign in with: Google (Gmail, Workspace), Microsoft (Microsoft 365, Outlook.com), or another provider by its issuer URL.' }),
  oauthClientId: z.string().optional().meta({ label: 'Client id', help: 'The id of the app you registered with the provider for Panoptes (the README shows the one-time steps).' }),
  oauthClientSecret: z.string().optional().meta({ label: 'Client secret', help: 'Only if the provider gave your app one (Google\'s "Desktop app" clients do). Stored in the secret store.', secret: true }),
  oauthTenant: z.string().optional().meta({ label: 'Microsoft tenant', help: '"common" (any account, the default), "organizations", "consumers", or your organisation\'s tenant id or domain.' }),
  oauthIssuer: z.string().optional().meta({ label: 'Issuer URL', help: 'Another provider: its issuer, e.g. https://auth.example.org/realms/home; its endpoints come from its discovery document.' }),
  oauthScopes: z.string().optional().meta({ label: 'Scopes', help: 'Another provider: the scopes its mail server wants, separated by spaces.' }),
  oauthGrant: z.string().optional().meta({ label: 'Signed-in account', help: 'Kept by Panoptes after you sign in; never shown or exported.', secret: true, oauthGrant: true }),
};

export const mailConfigSchema = z
  .object({
    account: z.string().min(1).optional().meta({ label: 'Account name', help: 'Shown on every event (field "account"); defaults to user@host.' }),
    source: z.enum(['imap', 'graph']).default('imap').meta({ label: 'Read mail through', help: '"imap": any mail server. "graph": Microsoft Graph, for Microsoft 365 and Outlook.com accounts (sign in with Microsoft); watches the Inbox.' }),
    host: z.string().min(1).optional().meta({ label: 'IMAP server', help: 'Host name of the incoming mail server, e.g. imap.example.org (imap.gmail.com, outlook.office365.com).' }),
    port: z.number().int().min(1).max(65535).optional().meta({ label: 'IMAP port', help: 'Defaults to 993 with TLS, 143 otherwise.' }),
    security: security('IMAP security').default('tls'),
    username: z.string().optional().meta({ label: 'User name', help: 'The login name, often the full address. With "Sign in" it defaults to the signed-in address.' }),
    password: z.string().optional().meta({ label: 'Password', help: 'An app password if your provider offers them. Stored in the secret store, never in the config file.', secret: true }),
    ...oauthFields,
    graphUrl: z.string().url().default('https://graph.microsoft.com/v1.0').meta({ label: 'Graph address', help: 'Microsoft Graph\'s address; change only for a national cloud (e.g. https://graph.microsoft.us/v1.0).' }),
    ca: z.string().min(1).optional().meta({ label: 'CA file', help: 'Path of a PEM file with a private CA (e.g. a home server\'s own). When set, the IMAP and SMTP servers\' certificates must be signed by it, instead of by a CA this system trusts.' }),
    folders: z.array(z.string().min(1)).min(1).default(['INBOX']).meta({ label: 'Folders', help: 'Folders to watch; each gets its own connection so new mail is pushed (IMAP IDLE). With Graph: the Inbox.' }),
    pollInterval: duration('Poll interval', 'How often to check when the server cannot push new mail (no IMAP IDLE), and how often Microsoft Graph is asked. At least 30s (5s with Graph).').default('2m'),
    keepalive: duration('Keep-alive', 'How often the connection is checked with NOOP; a server that does not answer within 15 s counts as gone and is reconnected.').default('1m'),
    ...smtpFields,
  })
  .superRefine((c, ctx) => {
    const imap = c.source === 'imap';
    if (imap && !c.host) ctx.addIssue({ code: 'custom', path: ['host'], message: 'the IMAP server is needed (e.g. imap.gmail.com)' });
    if (imap && c.auth === 'password' && !c.username) ctx.addIssue({ code: 'custom', path: ['username'], message: 'the user name is needed' });
    if (c.host && imap && c.security === 'plain' && !isLoopback(c.host)) ctx.addIssue({ code: 'custom', path: ['security'], message: 'plain IMAP is only allowed to 127.0.0.1/localhost' });
    if (c.smtpHost && c.smtpSecurity === 'plain' && !isLoopback(c.smtpHost)) ctx.addIssue({ code: 'custom', path: ['smtpSecurity'], message: 'plain SMTP is only allowed to 127.0.0.1/localhost' });
    if (c.source === 'graph' && c.auth !== 'oauth2') ctx.addIssue({ code: 'custom', path: ['auth'], message: 'Microsoft Graph needs "Sign in with Microsoft" (sign-in: oauth2)' });
    if (c.source === 'graph' && c.oauthProvider === 'google') ctx.addIssue({ code: 'custom', path: ['oauthProvider'], message: 'Microsoft Graph needs a Microsoft account; for Gmail read mail through IMAP' });
    if (c.auth === 'oauth2') {
      if (!c.oauthProvider) ctx.addIssue({ code: 'custom', path: ['oauthProvider'], message: 'choose who you sign in with' });
      if (!c.oauthClientId?.trim()) ctx.addIssue({ code: 'custom', path: ['oauthClientId'], message: 'the client id of your app registration is needed (see the README)' });
      if (c.oauthProvider === 'generic' && !c.oauthIssuer) ctx.addIssue({ code: 'custom', path: ['oauthIssuer'], message: 'the provider\'s issuer URL is needed' });
    }
    if (c.graphUrl && !/^https:\/\//.test(c.graphUrl) && !isLoopback(safeHost(c.graphUrl))) ctx.addIssue({ code: 'custom', path: ['graphUrl'], message: 'Graph must be reached over https' });
  });

function safeHost(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

export type MailConfig = z.infer<typeof mailConfigSchema>;

/** What the form holds, as OAuth client settings; the scopes follow from the provider and the source. */
export function oauthClientOf(c: Record<string, unknown>, secrets: Readonly<Record<string, string>>): OAuthClientSettings {
  const provider = c.oauthProvider as OAuthClientSettings['provider'] | undefined;
  if (!provider) throw new ProviderSettingsError('oauthProvider', 'choose who you sign in with');
  const graph = c.source === 'graph';
  const custom = String(c.oauthScopes ?? '').split(/\s+/).filter(Boolean);
  const scopes =
    provider === 'google' ? [GOOGLE_MAIL_SCOPE] : provider === 'microsoft' ? (graph ? [MICROSOFT_GRAPH_MAIL_SCOPE] : MICROSOFT_IMAP_SCOPES) : custom;
  const clientSecret = typeof c.oauthClientSecret === 'string' && c.oauthClientSecret ? c.oauthClientSecret : secrets.oauthClientSecret;
  return {
    provider,
    clientId: String(c.oauthClientId ?? ''),
    ...(clientSecret ? { clientSecret } : {}),
    ...(typeof c.oauthTenant === 'string' && c.oauthTenant ? { tenant: c.oauthTenant } : {}),
    ...(typeof c.oauthIssuer === 'string' && c.oauthIssuer ? { issuer: c.oauthIssuer } : {}),
    scopes,
  };
}

export function imapPort(c: Pick<MailConfig, 'port' | 'security'>): number {
  return c.port ?? (c.security === 'tls' ? 993 : 143);
}

export function accountName(c: Pick<MailConfig, 'account' | 'username' | 'host'>, signedIn?: string | null): string {
  const user = c.username || signedIn || '';
  return c.account ?? (user.includes('@') ? user : `${user}@${c.host ?? 'graph'}`);
}
