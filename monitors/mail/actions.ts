import { z } from 'zod';
import { permanentError, messageIdFor, type ActionExecutor, type ActionHost, type RuleActionSpec } from '../../core/action.js';
import { sendMail, type SmtpSettings } from './send.js';

/** How a rule writes `email`: recipient, subject and body are templates; `account` names the mail monitor to send from. */
export const emailRuleAction: RuleActionSpec<{ to: string; subject: string; body: string; account?: string | undefined }> = {
  params: (template) => z.strictObject({ to: template, subject: template, body: template, account: z.string().optional() }),
  render: (m, r) => ({ to: r(m.to, 'to'), subject: r(m.subject, 'subject'), body: r(m.body, 'body'), ...(m.account !== undefined ? { account: m.account } : {}) }),
};

/**
 * `email {to, subject, body, account?}`: sent through a mail account the user already set up as a monitor (its SMTP
 * settings; secrets from the secret store, never from the rule). Each SMTP server is its own lane. The Message-ID
 * is made from the action's idempotency key, so a mail sent again after a crash is recognisably the same message.
 */
export function emailExecutor(host: ActionHost): ActionExecutor {
  const accountFor = (a: { account?: string }) => {
    const accounts = host.accounts();
    return a.account ? accounts.find((m) => m.id === a.account || m.name === a.account) : accounts[0];
  };
  return {
    retrySafe: true,
    maxAttempts: 5,
    concurrency: 2,
    timeoutMs: 5 * 60_000,
    destination(action) {
      const account = accountFor((action as { email: { account?: string } }).email);
      return `email:${String(account?.config.smtpHost ?? '?')}`;
    },
    async run(action, ctx) {
      const a = (action as { email: { to: string; subject: string; body: string; account?: string } }).email;
      const account = accountFor(a);
      if (!account) throw permanentError(a.account ? `no mail account "${a.account}"` : 'no mail account is set up to send from');
      if (!account.config.smtpHost) throw permanentError(`mail account "${account.name}" has no SMTP server set`);
      // An OAuth account's grant may be renewed on the way; the renewal is kept under the same key the monitor uses.
      const oauth = { key: `${account.id}:oauthGrant`, save: (json: string) => host.saveSecrets?.(account.id, { oauthGrant: json }) };
      await sendMail(account.config as unknown as SmtpSettings, account.secrets, { to: a.to, subject: a.subject, body: a.body, messageId: messageIdFor(ctx.idempotencyKey) }, oauth);
    },
  };
}
