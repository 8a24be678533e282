// The IRC monitor and the chat sender against a real ngIRCd started here on loopback. ngIRCd delays commands
// as flood protection, so every step waits for the other side (its join, its message) instead of sleeping.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import irc, { type Client, type MessageEvent } from 'irc-framework';
import ircMonitor from '../../monitors/irc/index.js';
import { postChat } from '../../monitors/irc/send.js';
import { ircConfigSchema } from '../../monitors/irc/settings.js';
import { dryRunMonitor } from '../../core/monitor-host.js';
import { startNgircd, type IrcServer } from '../helpers/ngircd.js';
import { runMonitor } from '../helpers/monitor-harness.js';

let server: IrcServer;
before(async () => {
  server = await startNgircd();
});
after(async () => {
  await server?.close();
});

const configFor = (nick: string, extra: Record<string, unknown> = {}) => ({ host: '127.0.0.1', port: server.port, tls: false, nick, channels: ['#home'], keywords: ['deploy'], network: 'testnet', ...extra });

interface Friend {
  client: Client;
  heard: MessageEvent[];
  waitToHear(pred: (m: MessageEvent) => boolean, timeoutMs?: number): Promise<MessageEvent>;
  waitForJoin(nick: string, channel: string): Promise<void>;
  quit(): Promise<void>;
}

/** Another user on the server, to talk to the monitor. */
async function friend(nick: string, channel?: string): Promise<Friend> {
  const client = new irc.Client();
  const heard: MessageEvent[] = [];
  const joins: { nick: string; channel: string }[] = [];
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());
  client.on('privmsg', (m: MessageEvent) => (heard.push(m), notify()));
  client.on('join', (j: { nick: string; channel: string }) => (joins.push(j), notify()));
  client.on('userlist', (u: { channel: string; users: { nick: string }[] }) => {
    for (const x of u.users) joins.push({ nick: x.nick, channel: u.channel });
    notify();
  });
  const until = <T>(check: () => T | undefined, what: string, timeoutMs = 15_000) =>
    new Promise<T>((resolve, reject) => {
      const attempt = () => {
        const v = check();
        if (v !== undefined) {
          clearTimeout(t);
          listeners.delete(attempt);
          resolve(v);
        }
      };
      const t = setTimeout(() => (listeners.delete(attempt), reject(new Error(`timed out waiting for ${what}`))), timeoutMs);
      listeners.add(attempt);
      attempt();
    });
  await new Promise<void>((resolve, reject) => {
    client.once('registered', () => resolve());
    client.once('socket error', reject);
    client.connect({ host: '127.0.0.1', port: server.port, nick, username: nick, auto_reconnect: false });
  });
  const f: Friend = {
    client,
    heard,
    waitToHear: (pred, timeoutMs) => until(() => heard.find(pred), 'a message', timeoutMs),
    waitForJoin: (who, ch) => until(() => (joins.some((j) => j.nick.toLowerCase() === who.toLowerCase() && j.channel.toLowerCase() === ch.toLowerCase()) ? true : undefined), `${who} in ${ch}`).then(() => {}),
    quit: () =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 3_000);
        client.once('close', () => (clearTimeout(t), resolve()));
        client.once('socket close', () => (clearTimeout(t), resolve()));
        client.quit('bye');
      }),
  };
  if (channel) {
    client.join(channel);
    await f.waitForJoin(nick, channel);
  }
  return f;
}

test('mentions (nick or keyword, whole words) and private messages become events; other chatter does not', async () => {
  const run = await runMonitor(ircMonitor, configFor('panoptes'));
  const bob = await friend('bob', '#home');
  try {
    await run.waitForHealth((h) => h.status === 'ok' && /#home/.test(h.message ?? ''), 15_000, 'joined #home');
    await bob.waitForJoin('panoptes', '#home');
    bob.client.say('#home', 'just chatting about malice and panoptesque things');
    bob.client.say('#home', 'hey \x02Panoptes\x02, lunch?');
    bob.client.say('#home', 'the DEPLOY is done');
    bob.client.say('panoptes', 'psst, a secret');
    const events = await run.waitForEvents(3, 20_000);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(run.events.length, 3, run.events.map((e) => e.title).join(' | '));
    const [m1, m2, pm] = events;
    assert.equal(m1!.type, 'chat.mention');
    assert.deepEqual(m1!.fields, { network: 'testnet', channel: '#home', from: 'bob', text: 'hey Panoptes, lunch?', isMention: true, isPrivate: false, matched: 'panoptes' });
    assert.equal(m2!.type, 'chat.mention');
    assert.equal(m2!.fields!.matched, 'deploy');
    assert.equal(pm!.type, 'chat.private');
    assert.deepEqual(pm!.fields, { network: 'testnet', channel: null, from: 'bob', text: 'psst, a secret', isMention: false, isPrivate: true });
  } finally {
    await bob.quit();
    await run.stop();
  }
});

test('every channel message when asked; the server killed and restarted → reconnects and rejoins on its own', async () => {
  const run = await runMonitor(ircMonitor, configFor('watcher', { allMessages: true }));
  try {
    await run.waitForHealth((h) => h.status === 'ok' && /#home/.test(h.message ?? ''), 15_000, 'joined #home');
    await server.stop();
    const down = await run.waitForHealth((h) => h.status === 'failing', 15_000, 'failing once the server is gone');
    assert.ok(down.nextRetry, 'health says when it retries');
    await new Promise((r) => setTimeout(r, 1_000));
    await server.start();
    await run.waitForHealth((h) => h.status === 'ok' && /#home/.test(h.message ?? ''), 30_000, 'reconnected and rejoined #home');

    const carol = await friend('carol', '#home');
    try {
      await carol.waitForJoin('watcher', '#home');
      carol.client.say('#home', 'good morning everyone');
      const [e] = await run.waitForEvents(1, 15_000);
      assert.equal(e!.type, 'chat.message');
      assert.equal(e!.fields!.text, 'good morning everyone');
      assert.equal(e!.fields!.isMention, false);
    } finally {
      await carol.quit();
    }
  } finally {
    await run.stop();
  }
});

test('nick collision: the monitor takes nick_ and still hears mentions and private messages', async () => {
  const squatter = await friend('sentinel', '#home');
  const run = await runMonitor(ircMonitor, configFor('sentinel'));
  try {
    const h = await run.waitForHealth((x) => x.status === 'ok' && /#home/.test(x.message ?? ''), 15_000, 'joined');
    assert.match(h.message ?? '', /as sentinel_ \(sentinel is taken\)/);
    await squatter.waitForJoin('sentinel_', '#home');
    squatter.client.say('sentinel_', 'you got the underscore');
    squatter.client.say('#home', 'sentinel: ping');
    const events = await run.waitForEvents(2, 15_000);
    assert.deepEqual(events.map((e) => e.type).sort(), ['chat.mention', 'chat.private']);
  } finally {
    await squatter.quit();
    await run.stop();
  }
});

test('chat action: posts through the live connection, or on its own when no monitor runs', async () => {
  const dave = await friend('dave', '#ops');
  const settings = ircConfigSchema.parse(configFor('poster', { channels: ['#ops'] }));
  const run = await runMonitor(ircMonitor, configFor('poster', { channels: ['#ops'] }));
  try {
    await run.waitForHealth((h) => h.status === 'ok' && /#ops/.test(h.message ?? ''), 15_000, 'joined #ops');
    const r1 = await postChat(settings, {}, { network: 'testnet', target: '#ops', text: 'disk almost full on nas' });
    assert.equal(r1.via, 'live');
    const m1 = await dave.waitToHear((m) => m.message === 'disk almost full on nas');
    assert.equal(m1.nick, 'poster');
    await run.stop();

    const r2 = await postChat(settings, {}, { network: 'testnet', target: 'dave', text: 'backup done' });
    assert.equal(r2.via, 'oneshot');
    const m2 = await dave.waitToHear((m) => m.message === 'backup done' && m.target === 'dave');
    assert.equal(m2.nick, 'poster');
    await assert.rejects(postChat(settings, {}, { target: 'not a target!', text: 'x' }), /not a channel or nick/);
  } finally {
    await dave.quit();
    await run.stop();
  }
});

test('dry run registers with the server and fails with a reason when it cannot', async () => {
  assert.deepEqual(await dryRunMonitor(ircMonitor, configFor('dryrunner')), []);
  await assert.rejects(dryRunMonitor(ircMonitor, { ...configFor('dryrunner'), port: 1 }), /cannot connect|closed/);
});
