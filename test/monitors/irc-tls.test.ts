// The IRC monitor and the chat action over real TLS: ngIRCd with its [SSL] section (a TLS-only port) and a
// certificate from a CA made for this run. The monitor checks the certificate against its CA file and refuses
// one it cannot trust, saying so in its health.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import irc, { type Client, type MessageEvent } from 'irc-framework';
import ircMonitor from '../../monitors/irc/index.js';
import { postChat } from '../../monitors/irc/send.js';
import { ircConfigSchema } from '../../monitors/irc/settings.js';
import { dryRunMonitor } from '../../core/monitor-host.js';
import { startNgircd, type IrcServer } from '../helpers/ngircd.js';
import { createTestPki, type TestPki } from '../helpers/test-ca.js';
import { runMonitor } from '../helpers/monitor-harness.js';

let pki: TestPki;
let server: IrcServer;
before(async () => {
  pki = createTestPki();
  server = await startNgircd({ tls: pki });
});
after(async () => {
  await server?.close();
  pki?.close();
});

// The TLS port speaks nothing but TLS, so a monitor that is "ok" there did connect over TLS.
const tlsConfig = (nick: string, extra: Record<string, unknown> = {}) => ({ host: '127.0.0.1', port: server.tlsPort, tls: true, ca: pki.caFile, nick, channels: ['#secure'], network: 'tlsnet', ...extra });

/** Someone else on the server (plain port), who talks in #secure once `nick` is in it. */
async function neighbour(nick: string): Promise<{ client: Client; heard: MessageEvent[]; waitFor(pred: () => boolean, what: string): Promise<void>; present: Set<string>; quit(): void }> {
  const client = new irc.Client();
  const heard: MessageEvent[] = [];
  const present = new Set<string>();
  client.on('privmsg', (m: MessageEvent) => heard.push(m));
  client.on('join', (j: { nick: string }) => present.add(j.nick.toLowerCase()));
  client.on('userlist', (u: { users: { nick: string }[] }) => u.users.forEach((x) => present.add(x.nick.toLowerCase())));
  await new Promise<void>((resolve, reject) => {
    client.once('registered', () => resolve());
    client.once('socket error', reject);
    client.connect({ host: '127.0.0.1', port: server.port, nick, username: nick, auto_reconnect: false });
  });
  client.join('#secure');
  const waitFor = async (pred: () => boolean, what: string) => {
    const deadline = Date.now() + 15_000;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  await waitFor(() => present.has(nick.toLowerCase()), `${nick} in #secure`);
  return { client, heard, present, waitFor, quit: () => client.quit('bye') };
}

test('TLS with a private CA: the monitor connects, joins and hears a mention; the chat action posts over TLS too', async () => {
  const run = await runMonitor(ircMonitor, tlsConfig('guardian'));
  const bob = await neighbour('bob');
  try {
    await run.waitForHealth((h) => h.status === 'ok' && /#secure/.test(h.message ?? ''), 15_000, 'joined #secure over TLS');
    await bob.waitFor(() => bob.present.has('guardian'), 'guardian in #secure');
    bob.client.say('#secure', 'guardian: the certificate checks out');
    const [e] = await run.waitForEvents(1, 15_000);
    assert.equal(e!.type, 'chat.mention');
    assert.equal(e!.fields!.text, 'guardian: the certificate checks out');
    await run.stop();

    // No monitor running: the action opens its own TLS connection, checked against the same CA.
    const settings = ircConfigSchema.parse(tlsConfig('herald'));
    const sent = await postChat(settings, {}, { network: 'tlsnet', target: 'bob', text: 'sent over TLS' });
    assert.equal(sent.via, 'oneshot');
    await bob.waitFor(() => bob.heard.some((m) => m.message === 'sent over TLS' && m.nick === 'herald'), 'the message from herald');
  } finally {
    bob.quit();
    await run.stop();
  }
});

test('a certificate the monitor cannot trust is refused: health says "certificate not trusted" and it does not retry at once', async () => {
  const run = await runMonitor(ircMonitor, tlsConfig('doubter', { ca: pki.otherCaFile }));
  try {
    const h = await run.waitForHealth((x) => x.status === 'failing', 15_000, 'refused');
    assert.match(h.message ?? '', /^certificate not trusted: 127\.0\.0\.1:\d+ presented a certificate, but it is not signed by the CA in .*other-ca\.crt$/);
    const retryIn = Date.parse(h.nextRetry!) - Date.now();
    assert.ok(retryIn > 60_000, `retries after minutes, not ${retryIn} ms`);
  } finally {
    await run.stop();
  }
  // The system's CAs do not know the private CA either.
  await assert.rejects(dryRunMonitor(ircMonitor, tlsConfig('doubter', { ca: undefined })), /certificate not trusted: .*not signed by a CA this system trusts/);
  const settings = ircConfigSchema.parse(tlsConfig('doubter', { ca: pki.otherCaFile }));
  await assert.rejects(postChat(settings, {}, { target: 'bob', text: 'never sent' }), /certificate not trusted/);
  // With the right CA file the same settings register fine.
  assert.deepEqual(await dryRunMonitor(ircMonitor, tlsConfig('believer')), []);
});
