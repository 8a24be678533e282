// #20 asks for exactly once across SIGKILL for both mail sources. Graph's is in mail-graph.test.ts; this is IMAP's:
// the real agent, signed in with OAuth (XOAUTH2 against Dovecot's oauth2 passdb), killed with SIGKILL while mail
// streams in, more mail arriving while it is down — after the restart every message is in the history once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { beginSignIn, serializeGrant } from '../../core/oauth/index.js';
import { openStore } from '../../core/store/index.js';
import { startOAuthServer } from '../helpers/oauth-server.js';
import { startDovecot } from '../helpers/dovecot.js';
import { startAgent, type RunningAgent } from '../helpers/agent-process.js';
import { connectProtocol } from '../helpers/protocol-client.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { writeConfig } from '../forwarding/helpers.js';

const USER = 'frank@example.org';
const SCOPE = 'https://mail.example.org/imap';
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

const message = (n: number) => [`From: bob@example.org`, `To: ${USER}`, `Subject: stream ${n}`, `Message-ID: <stream-${n}@example.org>`, '', `Message ${n}`, ''].join('\r\n');

test('IMAP with OAuth: the real agent SIGKILLed while mail streams in — after the restart every message is stored exactly once', { timeout: 180_000 }, async (t) => {
  const auth = await startOAuthServer({ user: { username: USER, email: USER } });
  closers.push(() => auth.close());
  const dovecot = await startDovecot({ [USER]: 'unused' }, { oauth2: { introspectionUrl: auth.server.url('/introspect') } });
  closers.push(() => dovecot.close());
  const s = await beginSignIn('device', { provider: 'generic', issuer: auth.issuer, clientId: auth.clientId, scopes: [SCOPE] });
  auth.approveDevice(s.prompt.userCode!);
  const grant = await s.done;

  const dir = tempDir(t, 'panoptes-imap-kill-');
  const config = { host: '127.0.0.1', port: dovecot.port, security: 'plain', auth: 'oauth2', oauthProvider: 'generic', oauthIssuer: auth.issuer, oauthClientId: auth.clientId, oauthScopes: SCOPE, keepalive: '5s' };
  writeConfig(dir, { monitors: [{ id: 'mail:work', type: 'mail', name: 'Work mail', enabled: true, config }] });
  writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ 'mail:work': { oauthGrant: serializeGrant(grant) } }), { mode: 0o600 });
  const store = openStore(dir);
  t.after(() => store.close());
  const received = () => store.events.list({ type: 'mail.received', limit: 1000, order: 'asc' }).events;

  let agent: RunningAgent = await startAgent(dir);
  t.after(() => agent.stop());
  // Connected (the first start notes where the Inbox stands): then the stream begins.
  const client = await connectProtocol(agent);
  await waitFor(async () => (await client.call('monitors.list')).find((m: { id: string }) => m.id === 'mail:work')?.health?.status === 'ok' || null, 'the monitor connected', 60_000);
  client.close();
  dovecot.deliver(USER, message(1));
  await waitFor(() => received().length >= 1 || null, 'the first message stored', 60_000);
  for (let n = 2; n <= 8; n++) dovecot.deliver(USER, message(n));
  await waitFor(() => received().length >= 2 || null, 'the stream being stored', 30_000);
  agent.child.kill('SIGKILL');
  await new Promise<void>((r) => (agent.child.exitCode !== null || agent.child.signalCode !== null ? r() : agent.child.once('exit', () => r())));
  for (let n = 9; n <= 12; n++) dovecot.deliver(USER, message(n)); // arrives while Panoptes is down

  agent = await startAgent(dir);
  await waitFor(() => received().length >= 12 || null, 'all 12 after the restart', 60_000);
  // A last message, stored after everything before it was handled: whatever would repeat has done so by then.
  dovecot.deliver(USER, message(13));
  await waitFor(() => received().some((e) => e.title === 'stream 13') || null, 'the marker message', 30_000);
  const titles = received().map((e) => e.title);
  assert.equal(titles.length, 13, `nothing twice: ${titles.join(', ')}`);
  assert.deepEqual(new Set(titles), new Set(Array.from({ length: 13 }, (_, i) => `stream ${i + 1}`)), 'nothing lost');
});
