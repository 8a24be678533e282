import { z } from 'zod';
import { permanentError, type ActionAccount, type ActionExecutor, type ActionHost, type RuleActionSpec } from '../../core/action.js';
import { postChat } from './send.js';
import { networkName, type IrcConfig } from './settings.js';

/** How a rule writes `chat`: the network as named in its monitor, where to say it and what (both templates). */
export const chatRuleAction: RuleActionSpec<{ network: string; target: string; text: string }> = {
  params: (template) => z.strictObject({ network: z.string().min(1), target: template, text: template }),
  render: (c, r) => ({ network: c.network, target: r(c.target, 'target'), text: r(c.text, 'text') }),
};

/**
 * `chat {network, target, text}`: said on an IRC network the user already set up as a monitor (secrets from the
 * secret store, never from the rule). Each network is its own lane.
 */
export function chatExecutor(host: ActionHost): ActionExecutor {
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
      const matches = (m: ActionAccount) => !a.network || m.id === a.network || m.name === a.network || networkName(m.config as unknown as IrcConfig) === a.network;
      const net = host.accounts().find(matches);
      if (!net) throw permanentError(a.network ? `no IRC network "${a.network}" is set up` : 'no IRC network is set up');
      await postChat(net.config as unknown as IrcConfig, net.secrets, { network: networkName(net.config as unknown as IrcConfig), target: a.target, text: a.text });
    },
  };
}
