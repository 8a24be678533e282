import type { Engine } from '../engine.js';
import type { ActionExecutor } from '../outbox-dispatcher.js';
import { permanentError } from '../outbox-dispatcher.js';
import { sendMail, type SmtpSettings } from '../../monitors/mail/send.js';
import { postChat } from '../../monitors/irc/send.js';
import { networkName, type IrcConfig } from '../../monitors/irc/settings.js';
import type { MonitorEntry } from '../../core/config/schema.js';

/**
 * `email {to, subject, body, account?}` and `chat {network, target, text}` go out through the accounts the user
 * already set up as monitors: the mail monitor's SMTP settings, the IRC monitor's network. Secrets come from the
 * secret store, never from the rule.
 */
export function emailExecutor(engine: Engine): ActionExecutor {
  return {
    retrySafe: true,
    maxAttempts: 5,
    async run(action) {
      const a = (action as { email: { to: string; subject: string; body: string; account?: string } }).email;
      const accounts = engine.config.current.monitors.filter((m) => m.type === 'mail');
      const account = a.account ? accounts.find((m) => m.id === a.account || m.name === a.account) : accounts[0];
      if (!account) throw permanentError(a.account ? `no mail account "${a.account}"` : 'no mail account is set up to send from');
      if (!account.config.smtpHost) throw permanentError(`mail account "${account.name}" has no SMTP server set`);
      await sendMail(account.config as unknown as SmtpSettings, engine.secrets.get(account.id), { to: a.to, subject: a.subject, body: a.body });
    },
  };
}

export function chatExecutor(engine: Engine): ActionExecutor {
  return {
    retrySafe: false,
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
