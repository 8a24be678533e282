// The mail account's settings as the user fills them in: IMAP for watching, SMTP for the `email` action.
import { z } from 'zod';
import { isDuration } from '../../core/duration.js';

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

export const mailConfigSchema = z
  .object({
    account: z.string().min(1).optional().meta({ label: 'Account name', help: 'Shown on every event (field "account"); defaults to user@host.' }),
    host: z.string().min(1).meta({ label: 'IMAP server', help: 'Host name of the incoming mail server, e.g. imap.example.org.' }),
    port: z.number().int().min(1).max(65535).optional().meta({ label: 'IMAP port', help: 'Defaults to 993 with TLS, 143 otherwise.' }),
    security: security('IMAP security').default('tls'),
    username: z.string().min(1).meta({ label: 'User name', help: 'The login name, often the full address.' }),
    password: z.string().optional().meta({ label: 'Password', help: 'An app password if your provider offers them. Stored in the secret store, never in the config file.', secret: true }),
    ca: z.string().min(1).optional().meta({ label: 'CA file', help: 'Path of a PEM file with a private CA (e.g. a home server\'s own). When set, the IMAP and SMTP servers\' certificates must be signed by it, instead of by a CA this system trusts.' }),
    folders: z.array(z.string().min(1)).min(1).default(['INBOX']).meta({ label: 'Folders', help: 'Folders to watch; each gets its own connection so new mail is pushed (IMAP IDLE).' }),
    pollInterval: duration('Poll interval', 'How often to check when the server cannot push new mail (no IMAP IDLE). At least 30s.').default('2m'),
    keepalive: duration('Keep-alive', 'How often the connection is checked with NOOP; a server that does not answer within 15 s counts as gone and is reconnected.').default('1m'),
    ...smtpFields,
  })
  .superRefine((c, ctx) => {
    if (c.security === 'plain' && !isLoopback(c.host)) ctx.addIssue({ code: 'custom', path: ['security'], message: 'plain IMAP is only allowed to 127.0.0.1/localhost' });
    if (c.smtpHost && c.smtpSecurity === 'plain' && !isLoopback(c.smtpHost)) ctx.addIssue({ code: 'custom', path: ['smtpSecurity'], message: 'plain SMTP is only allowed to 127.0.0.1/localhost' });
  });

export type MailConfig = z.infer<typeof mailConfigSchema>;

export function imapPort(c: Pick<MailConfig, 'port' | 'security'>): number {
  return c.port ?? (c.security === 'tls' ? 993 : 143);
}

export function accountName(c: Pick<MailConfig, 'account' | 'username' | 'host'>): string {
  return c.account ?? (c.username.includes('@') ? c.username : `${c.username}@${c.host}`);
}
