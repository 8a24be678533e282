// The `email` action's sender lives in base/smtp.ts, shared with the email notification channel. Here: accounts
// that sign in with OAuth get their token from the same grant as the monitor's IMAP login.
import { sendMail as sendWith, type OutgoingMail, type SentMail, type SmtpSettings } from '../../base/smtp.js';
import { OAuthError, grantMismatch, parseGrant, tokenSourceFor } from '../../core/oauth/index.js';
import { oauthClientOf } from './settings.js';
export { smtpPort, type SmtpSettings, type OutgoingMail, type SentMail } from '../../base/smtp.js';

/** For accounts that sign in with OAuth: where the grant's renewals are kept (the key is shared with the monitor). */
export interface SmtpOAuth {
  key: string;
  save(grantJson: string): void;
}

export async function sendMail(smtp: SmtpSettings & { auth?: 'password' | 'oauth2' | undefined }, secrets: Readonly<Record<string, string>>, mail: OutgoingMail, oauth?: SmtpOAuth): Promise<SentMail> {
  if (smtp.auth !== 'oauth2') return sendWith(smtp, secrets, mail);
  // Renewed here if due (and once more if the server refuses it); nodemailer then speaks SASL XOAUTH2.
  // A grant made for another provider or client id (changed in the settings since) is not used: sign in again.
  const stored = parseGrant(secrets.oauthGrant);
  let mismatch: string | null = null;
  try {
    mismatch = stored ? grantMismatch(stored, oauthClientOf(smtp as unknown as Record<string, unknown>, secrets)) : null;
  } catch {
    mismatch = null;
  }
  if (mismatch) throw new OAuthError('signin-required', mismatch);
  const source = tokenSourceFor(oauth?.key ?? 'smtp', () => secrets.oauthGrant, (json) => oauth?.save(json));
  const first = await source.get();
  const user = smtp.smtpUsername || smtp.username || first.account || '';
  if (!user) throw new Error('SMTP: the sign-in did not say which address it is for; fill in the user name');
  let used = false;
  return sendWith(smtp, secrets, mail, {
    user,
    token: async (renew) => {
      if (!used && !renew) {
        used = true;
        return first.token;
      }
      return (await source.get(renew)).token;
    },
  });
}
