// IRC monitor: stays in the configured channels and turns mentions, private messages and (optionally) every
// channel message into events. Reconnects and rejoins on its own; the "chat" action posts through it (send.ts).
import type { MonitorDefinition } from '../../core/monitor.js';
import { chatExecutor, chatRuleAction } from './actions.js';
import type { MessageEvent } from 'irc-framework';
import { connectClient, IrcSession, liveConnections } from './connection.js';
import { ircConfigSchema, ircPort, networkName, type IrcConfig } from './settings.js';
import { findMention, stripFormatting } from './text.js';

const FIELDS = {
  network: 'The network name (config "network", or the server host).',
  channel: 'The channel, or null for a private message.',
  from: 'Nick of the sender.',
  text: 'The message, IRC formatting removed; "/me" actions start with "* nick".',
  isMention: 'True when it names your nick or a keyword (whole word, any case).',
  isPrivate: 'True for a private message to you.',
};

const ircMonitor: MonitorDefinition<IrcConfig> = {
  type: 'irc',
  badge: 'IRC',
  category: 'Messages',
  title: 'Chat (IRC)',
  description:
    'Connects to an IRC server, joins channels and emits an event when someone mentions you (or a keyword) or writes to you privately — ' +
    'optionally for every channel message. Survives server restarts and network drops: it reconnects with backoff and rejoins.',
  configSchema: ircConfigSchema,
  events: [
    { type: 'chat.mention', description: 'A channel message that names your nick or one of your keywords.', fields: { ...FIELDS, matched: 'The nick or keyword that matched.' } },
    { type: 'chat.private', description: 'A private message to you.', fields: FIELDS },
    { type: 'chat.message', description: 'Any other channel message (only with "Every channel message" on).', fields: FIELDS },
  ],
  actions: { chat: { rule: chatRuleAction, executor: chatExecutor } },
  // The server and each channel (IRC channel names are case-insensitive); with no channel, the server itself.
  sources: (c) => (c.channels.length ? c.channels.map((ch) => `${c.host.toLowerCase()}:${ircPort(c)} ${ch.toLowerCase()}`) : [`${c.host.toLowerCase()}:${ircPort(c)}`]),
  create(ctx) {
    const controller = new AbortController();
    const network = networkName(ctx.config);
    let session: IrcSession | null = null;
    let loop: Promise<void> | null = null;

    const onMessage = (e: MessageEvent, isAction: boolean) => {
      if (!session || !e.nick || e.nick === session.nick) return;
      const raw = stripFormatting(String(e.message ?? '')).slice(0, 2_000);
      const text = isAction ? `* ${e.nick} ${raw}` : raw;
      const isPrivate = e.target.toLowerCase() === session.nick.toLowerCase();
      const matched = isPrivate ? null : findMention(raw, [session.nick, ctx.config.nick, ...ctx.config.keywords]);
      const type = isPrivate ? 'chat.private' : matched ? 'chat.mention' : ctx.config.allMessages ? 'chat.message' : null;
      if (!type) return;
      const channel = isPrivate ? null : e.target;
      void ctx
        .emit({
          type,
          ts: e.time ? new Date(e.time) : new Date(),
          title: isPrivate ? `${e.nick} (private): ${text}` : `${e.nick} in ${channel}: ${text}`,
          body: text,
          fields: { network, channel, from: e.nick, text, isMention: Boolean(matched), isPrivate, ...(matched ? { matched } : {}) },
          tags: ['chat', 'irc'],
        })
        .catch((err) => ctx.log.error(`could not store a chat message: ${(err as Error).message}`));
    };

    return {
      async start() {
        if (ctx.dryRun) {
          // Nothing to show from the past on IRC: prove the settings work by registering, then leave.
          const client = await connectClient(ctx.config, ctx.secrets, ctx.signal);
          client.quit('Panoptes dry run');
          return;
        }
        ctx.signal.addEventListener('abort', () => controller.abort(), { once: true });
        ctx.health.degraded(`connecting to ${ctx.config.host}`);
        session = new IrcSession(
          ctx.config,
          ctx.secrets,
          {
            onReady: (joined, nick) => {
              liveConnections.set(network, session!);
              const nickNote = nick !== ctx.config.nick ? ` as ${nick} (${ctx.config.nick} is taken)` : '';
              ctx.health.ok(`connected${nickNote}${joined.length ? `, in ${joined.join(', ')}` : ''}`);
            },
            onDown: (err, retryInMs) => {
              if (liveConnections.get(network) === session) liveConnections.delete(network);
              ctx.log.warn(`${err.message}; reconnecting in ${Math.round(retryInMs / 1000)} s`);
              ctx.health.failing(err, retryInMs);
            },
            onMessage,
          },
          controller.signal,
        );
        loop = session.run();
      },
      async stop() {
        controller.abort();
        if (session && liveConnections.get(network) === session) liveConnections.delete(network);
        await loop;
      },
    };
  },
};

export default ircMonitor;
