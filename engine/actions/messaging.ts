import type { ConfigStore } from '../../core/config/config-store.js';
import type { SecretStore } from '../../core/secrets.js';
import type { ActionExecutor } from '../outbox-dispatcher.js';
import { permanentError } from '../outbox-dispatcher.js';
import { sendMail, type SmtpSettings } from '../../monitors/mail/send.js';
import { postChat } from '../../monitors/irc/send.js';
import { networkName, type IrcConfig } from '../../monitors/irc/settings.js';
import type { MonitorEntry } from '../../core/config/schema.js';
import { messageIdFor } from '../idempotency.js';

/** Where the accounts set up as monitors, and their secrets, are. */
interface AccountsHost {
  readonly config: ConfigStore;
  readonly secrets: SecretStore;
}

/**
 * `email {to, subject, body, account?}` and `chat {network, target, text}` go out through the accounts the user
 * already set up as monitors: the mail monitor's SMTP settings, the IRC monitor's network. Secrets come from the
 * secret store, never from the rule. Each SMTP server and each chat network is its own lane. A mail's Message-ID is
 * made from the action's idempotency key, so a mail sent again after a crash is recognisably the same message.
 */
export function emailExecutor(engine: AccountsHost): ActionExecutor {
  const accountFor = (a: { account?: string }) => {
    const accounts = engine.config.current.monitors.filter((m) => m.type === 'mail');
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
      await sendMail(account.config as unknown as SmtpSettings, engine.secrets.get(account.id), { to: a.to, subject: a.subject, body: a.body, messageId: messageIdFor(ctx.idempotencyKey) });
    },
  };
}

export function chatExecutor(engine: AccountsHost): ActionExecutor {
  return {
    retrySafe: false,
    // One at a time per network: lines reach the channel in the order the rules fired.
    concurrency: 1,
    timeoutMs: 2 * 60_000,
    destination(action) {
      return `chat:${String((action as { chat: { network?: string } }).chat.network ?? '')}`;
    },
    async run(action) {
      const a = (action as { chat: { network?: string; target: string; text: string } }).chat;
      const networks = engine.config.current.monitors.filter((m) => m.type === 'irc');
      const matches = (m: MonitorEntry) => !a.network || m.id === a.network || m.name === a.network || networkName(m.config as unknown as IrcConfig) === a.network;
      const net = networks.find(matches);
      if (!net) throw permanentError(a.network ? `no IRC network "${a.network}" is set up` : 'no IRC network is set up');
      await postChat(net.config as unknown as IrcConfig, engine.secrets.get(net.id), { network: networkName(net.config as unknown as IrcConfig), target: a.target, text: a.text });
    },
  };
}
