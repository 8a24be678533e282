// Signing a headless agent's mail monitor in from a terminal: `panoptes monitor signin <id>` runs the device flow
// (RFC 8628) — it prints where to go and the code, waits, and the grant lands in the 0600 secret store of the agent
// it talks to. Against a running agent it goes through the local endpoint (the agent stores the grant and restarts
// the monitor, which then reads mail from a real Dovecot); with no agent running it writes the secret store itself,
// and the next start uses it. `panoptes monitor signout <id>` forgets it again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { BIN, startAgent } from '../helpers/agent-process.js';
import { connectProtocol } from '../helpers/protocol-client.js';
import { oauthMailAccount } from '../helpers/oauth-mail.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { parseGrant } from '../../core/oauth/index.js';

const USER = 'carol@example.org';
const mail = oauthMailAccount(USER);

const config = () => mail.config();
const message = (subject: string) => [`From: bob@example.org`, `To: ${USER}`, `Subject: ${subject}`, `Message-ID: <${Math.random().toString(36).slice(2)}@example.org>`, '', 'Hello', ''].join('\r\n');

/** Run the CLI; the test plays the user on another device: it reads the code the command prints and enters it. */
function signInCli(args: string[], enter: (userCode: string) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, PANOPTES_LOG: 'warn' }, timeout: 90_000 });
    let stdout = '';
    let stderr = '';
    let entered = false;
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /code:?\s+([A-Z0-9]{4}-[A-Z0-9]{4})/.exec(stdout);
      if (m && !entered) {
        entered = true;
        enter(m[1]!);
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const storedGrant = (dir: string) => (existsSync(path.join(dir, 'secrets.json')) ? parseGrant(JSON.parse(readFileSync(path.join(dir, 'secrets.json'), 'utf8'))['mail:work']?.oauthGrant) : null);

test('monitor signin through a running agent: the device code is printed, the grant reaches the agent, mail arrives', async (t) => {
  const dir = tempDir(t);
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const client = await connectProtocol(agent);
  t.after(() => client.close());
  await client.call('monitors.add', { type: 'mail', name: 'Work', config: config() });
  await waitFor(async () => {
    const m = (await client.call('monitors.list')).find((x: { id: string }) => x.id === 'mail:work');
    return /not signed in/.test(m?.health?.message ?? m?.health?.lastError ?? '') || null;
  }, 'the monitor to say it is not signed in', 30_000);

  const r = await signInCli(['monitor', 'signin', 'mail:work', '--data', dir], (code) => mail.auth.approveDevice(code));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`${mail.auth.server.url('/activate').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`), 'the address to open is printed');
  assert.match(r.stdout, /through the running Panoptes/);
  assert.match(r.stdout, new RegExp(`signed in as ${USER}`));

  const g = storedGrant(dir)!;
  assert.ok(g?.refreshToken && mail.auth.isActive(g.accessToken), 'the agent keeps the grant');
  assert.equal(statSync(path.join(dir, 'secrets.json')).mode & 0o777, 0o600);
  assert.ok(!r.stdout.includes(g.accessToken) && !r.stdout.includes(g.refreshToken!), 'no token on the terminal');
  await waitFor(async () => {
    const m = (await client.call('monitors.list')).find((x: { id: string }) => x.id === 'mail:work');
    return m.health.status === 'ok' && m.signedIn?.account === USER ? m : null;
  }, 'the monitor connected with the new sign-in', 30_000);
  mail.dovecot.deliver(USER, message('after the terminal sign-in'));
  await waitFor(async () => (await client.call('events.list', { limit: 20 })).events.some((e: { title: string }) => e.title === 'after the terminal sign-in') || null, 'the mail as an event', 30_000);

  const out = await signInCli(['monitor', 'signout', 'mail:work', '--data', dir], () => {});
  assert.equal(out.code, 0, out.stderr);
  assert.equal(storedGrant(dir), null);
});

test('monitor signin with no agent running writes the secret store itself; denied or unknown monitors fail clearly', async (t) => {
  const dir = tempDir(t);
  const engine = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false, startMonitors: false });
  await engine.request('monitors.add', { type: 'mail', name: 'Work', config: config() });
  await engine.close();

  const unknown = await signInCli(['monitor', 'signin', 'mail:nope', '--data', dir], () => {});
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no monitor "mail:nope"/);

  const denied = await signInCli(['monitor', 'signin', 'mail:work', '--data', dir], (code) => mail.auth.denyDevice(code));
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /declined/);
  assert.equal(storedGrant(dir) ?? null, null);

  const r = await signInCli(['monitor', 'signin', 'mail:work', '--data', dir], (code) => mail.auth.approveDevice(code));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`signed in as ${USER}`));
  assert.match(r.stdout, /secrets\.json/);
  assert.equal(statSync(path.join(dir, 'secrets.json')).mode & 0o777, 0o600);
  assert.ok(storedGrant(dir)?.refreshToken);

  // The next start uses it: mail arrives.
  const again = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false });
  t.after(() => again.close());
  await waitFor(async () => (await again.request('monitors.list', {})).find((m) => m.id === 'mail:work')?.health.status === 'ok' || null, 'the monitor connected', 30_000);
});
