// The "chat" action's sender: post a message to a channel or nick. Through the IRC monitor's live connection
// for that network when one runs in this process; otherwise a short connection of its own (join, say, quit).
import { connectClient, liveConnections } from './connection.js';
import { networkName, type IrcConfig } from './settings.js';

export interface ChatMessage {
  network?: string;
  target: string;
  text: string;
}

const MAX_TEXT = 4_000;

/**
 * `settings` is the IRC monitor config of the network to post to (the executor picks it by `network`),
 * `secrets` its secrets. Rejects with a one-line reason.
 */
export async function postChat(settings: IrcConfig, secrets: Readonly<Record<string, string>>, message: ChatMessage): Promise<{ via: 'live' | 'oneshot' }> {
  const target = String(message.target ?? '').trim();
  if (!/^([#&+!][^\s,\x07]{1,49}|[A-Za-z[\]\\`^{}|_][A-Za-z0-9[\]\\`^{}|_-]{0,29})$/.test(target)) throw new Error(`chat: "${target}" is not a channel or nick`);
  // One line per IRC message; control characters other than newlines would let a template inject commands.
  const text = String(message.text ?? '').replace(/[\x00-\x09\x0B\x0C\x0E-\x1F\x7F]/g, '').slice(0, MAX_TEXT);
  if (!text.trim()) throw new Error('chat: the message is empty');
  const network = message.network ?? networkName(settings);

  const live = liveConnections.get(network);
  if (live) {
    await live.say(target, text);
    return { via: 'live' };
  }
  const controller = new AbortController();
  const client = await connectClient({ ...settings, nick: settings.nick }, secrets, controller.signal);
  try {
    if (/^[#&+!]/.test(target)) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`chat: could not join ${target}`)), 15_000);
        client.on('join', (e: { nick: string; channel: string }) => {
          if (e.nick === client.user.nick && e.channel.toLowerCase() === target.toLowerCase()) {
            clearTimeout(t);
            resolve();
          }
        });
        client.join(target);
      });
    }
    for (const line of text.split(/\r?\n/).filter(Boolean)) client.say(target, line);
  } finally {
    // QUIT is queued after the messages, so the server delivers them before the connection closes.
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5_000);
      client.once('close', () => (clearTimeout(t), resolve()));
      client.once('socket close', () => (clearTimeout(t), resolve()));
      client.quit('Panoptes');
    });
    controller.abort();
  }
  return { via: 'oneshot' };
}
