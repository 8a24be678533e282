// Sending one mail through an SMTP server with nodemailer: the mail monitor's `email` action and the email
// notification channel both use it, so it lives here, below both (channels may not import a monitor's folder).
import { certificateProblem, readCaFile } from './tls.js';

export type SmtpSecurity = 'tls' | 'starttls' | 'plain';

/** What sending needs of an account's settings (the mail monitor's SMTP fields, or an email channel's). */
export interface SmtpSettings {
  smtpHost?: string | undefined;
  smtpPort?: number | undefined;
  smtpSecurity?: SmtpSecurity | undefined;
  smtpUsername?: string | undefined;
  from?: string | undefined;
  username?: string | undefined;
  ca?: string | undefined;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|::1|\[::1\])$/i;

/** Plain (unencrypted) SMTP would send the password in the clear: only to this machine. */
function assertPlainOnlyOnLoopback(security: SmtpSecurity, host: string): void {
  if (security === 'plain' && !LOOPBACK.test(host.trim())) {
    throw new Error(`SMTP: plain (unencrypted) connections are only allowed to 127.0.0.1/localhost; use TLS or STARTTLS for ${host}`);
  }
}

export interface OutgoingMail {
  to: string | string[];
  subject: string;
  body: string;
  /** A Message-ID of the caller's (`<id@domain>`), e.g. derived from an idempotency key; otherwise nodemailer makes one. */
  messageId?: string;
}

export interface SentMail {
  messageId: string;
  accepted: string[];
  rejected: string[];
}

/**
 * Signing in with an OAuth 2.0 token instead of a password (SASL XOAUTH2, as Gmail and Microsoft 365 want):
 * `token(true)` is asked when the server refused the last one, so the caller can renew it once.
 */
export interface BearerAuth {
  user: string;
  token(renew: boolean): Promise<string>;
}

const MAX_SUBJECT = 998; // RFC 5322 line limit; longer subjects are a template gone wrong
const MAX_BODY = 1_000_000;

export function smtpPort(s: Pick<SmtpSettings, 'smtpPort' | 'smtpSecurity'>): number {
  return s.smtpPort ?? (s.smtpSecurity === 'tls' ? 465 : s.smtpSecurity === 'starttls' ? 587 : 25);
}

/**
 * Send `mail` with the account's SMTP settings. The password comes from `secrets.smtpPassword`, else
 * `secrets.password` (the IMAP one, which most providers share). Rejects with a one-line reason.
 */
export async function sendMail(smtp: SmtpSettings, secrets: Readonly<Record<string, string>>, mail: OutgoingMail, bearer?: BearerAuth): Promise<SentMail> {
  if (!smtp.smtpHost) throw new Error('this mail account has no SMTP server configured, so it cannot send');
  const security = smtp.smtpSecurity ?? 'starttls';
  assertPlainOnlyOnLoopback(security, smtp.smtpHost);
  const to = (Array.isArray(mail.to) ? mail.to : String(mail.to).split(',')).map((s) => s.trim()).filter(Boolean);
  if (!to.length) throw new Error('email: no recipient ("to" is empty)');
  if (/[\r\n]/.test(mail.subject)) throw new Error('email: the subject must be one line');
  const user = bearer?.user ?? smtp.smtpUsername ?? smtp.username;
  const pass = secrets.smtpPassword ?? secrets.password;
  let renewalFailure: Error | null = null;
  const port = smtpPort({ smtpPort: smtp.smtpPort, smtpSecurity: security });
  const ca = security === 'plain' ? undefined : readCaFile(smtp.ca);
  // Loaded on the first mail sent: most engines never send one, and nodemailer is a good part of an idle engine's memory.
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport({
    host: smtp.smtpHost,
    port,
    secure: security === 'tls',
    requireTLS: security === 'starttls',
    ignoreTLS: security === 'plain',
    auth: bearer ? { type: 'OAuth2', user: bearer.user, accessToken: await bearer.token(false) } : user && pass ? { user, pass } : undefined,
    // Always verified; a private CA (the account's "CA file") replaces the system's CAs.
    tls: { rejectUnauthorized: true, minVersion: 'TLSv1.2', ...(ca ? { ca } : {}) },
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
    logger: false,
  });
  if (bearer) {
    // nodemailer asks with renew=true when the server refused the token; a failure to renew is the reason given.
    transport.set('oauth2_provision_cb', (_user: string, renew: boolean, callback: (err: Error | null, token?: string) => void) => {
      bearer.token(renew).then(
        (t) => callback(null, t),
        (err: Error) => callback(new Error((renewalFailure = err).message)),
      );
    });
  }
  try {
    const info = await transport.sendMail({
      from: smtp.from || (smtp.username?.includes('@') ? smtp.username : undefined),
      to,
      subject: mail.subject.slice(0, MAX_SUBJECT),
      text: mail.body.length > MAX_BODY ? mail.body.slice(0, MAX_BODY) : mail.body,
      ...(mail.messageId ? { messageId: mail.messageId } : {}),
    });
    return {
      messageId: String(info.messageId ?? ''),
      accepted: (info.accepted ?? []).map(String),
      rejected: (info.rejected ?? []).map(String),
    };
  } catch (err) {
    const e = err as { code?: string; responseCode?: number; message?: string };
    const refused = certificateProblem(err, `SMTP server ${smtp.smtpHost}:${port}`, smtp.ca);
    if (refused) throw refused;
    if (renewalFailure) throw renewalFailure;
    if (e.code === 'EAUTH') throw new Error(`SMTP authentication failed for "${user}"${bearer ? ' with the sign-in token (does the app registration allow sending mail, e.g. SMTP.Send?)' : ''}`);
    if (e.code === 'ECONNECTION' || e.code === 'ESOCKET') throw new Error(`could not reach SMTP server ${smtp.smtpHost}: ${e.message}`);
    throw new Error(`sending mail failed: ${e.message ?? String(err)}`);
  } finally {
    transport.close();
  }
}
