// `panoptes monitor signin <id>` with no agent running writes the 0600 secret store itself — after waiting, maybe
// minutes, for the user to enter the code on another device. An agent started on the same data folder meanwhile
// holds its own copy of the store and writes it (a changed password, a rotated refresh token). Neither may lose the
// other's writes, and the agent's monitor uses the new sign-in at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { BIN, startAgent } from '../helpers/agent-process.js';
import { connectProtocol } from '../helpers/protocol-client.js';
import { oauthMailAccount } from '../helpers/oauth-mail.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { parseGrant } from '../../core/oauth/index.js';

const USER = 'dora@example.org';
const mail = oauthMailAccount(USER);

const oauthConfig = () => mail.config();
const passwordConfig = () => ({ host: '127.0.0.1', port: mail.dovecot.port, security: 'plain', username: 'nobody@example.org' });
const secretsOf = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'secrets.json'), 'utf8')) as Record<string, Record<string, string>>;

test('offline signin while an agent starts on the same folder: the agent\'s writes and the grant both survive, the monitor uses it at once', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  const engine = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false, startMonitors: false });
  await engine.request('monitors.add', { type: 'mail', name: 'Work', config: oauthConfig() });
  await engine.request('monitors.add', { type: 'mail', name: 'Home', enabled: false, config: { ...passwordConfig(), password: 'first password' } });
  await engine.close();

  // The CLI finds no agent, loads the store and prints the code; the user is slow to enter it.
  const child = spawn(process.execPath, [BIN, 'monitor', 'signin', 'mail:work', '--data', dir], { env: { ...process.env, PANOPTES_LOG: 'warn' }, timeout: 200_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  t.after(() => void child.kill());
  const userCode = (await waitFor(() => /code:?\s+([A-Z0-9]{4}-[A-Z0-9]{4})/.exec(stdout), 'the CLI to print the code', 60_000))[1]!;

  // Meanwhile the agent starts on the same folder and changes a secret of another monitor.
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const client = await connectProtocol(agent);
  t.after(() => client.close());
  await client.call('monitors.update', { id: 'mail:home', config: { ...passwordConfig(), password: 'changed while the CLI waited' } });
  assert.equal(secretsOf(dir)['mail:home']?.password, 'changed while the CLI waited');

  mail.auth.approveDevice(userCode);
  assert.equal(await exited, 0, stdout + stderr);
  assert.match(stdout, new RegExp(`signed in as ${USER}`));
  assert.equal(secretsOf(dir)['mail:home']?.password, 'changed while the CLI waited', 'the CLI kept the agent\'s write');
  assert.ok(parseGrant(secretsOf(dir)['mail:work']?.oauthGrant)?.refreshToken, 'the grant is in the store');
  assert.equal(statSync(path.join(dir, 'secrets.json')).mode & 0o777, 0o600);

  // The agent's monitor signs in with it without a restart, and mail arrives.
  await waitFor(async () => {
    const m = (await client.call('monitors.list')).find((x: { id: string }) => x.id === 'mail:work');
    return m.health.status === 'ok' && m.signedIn?.account === USER ? m : null;
  }, 'the agent\'s monitor connected with the grant the CLI wrote', 60_000);
  mail.dovecot.deliver(USER, ['From: bob@example.org', `To: ${USER}`, 'Subject: after the race', 'Message-ID: <race@example.org>', '', 'Hello', ''].join('\r\n'));
  await waitFor(async () => (await client.call('events.list', { limit: 20 })).events.some((e: { title: string }) => e.title === 'after the race') || null, 'the mail as an event', 30_000);

  // And the agent's next write keeps the grant.
  await client.call('monitors.update', { id: 'mail:home', config: { ...passwordConfig(), password: 'third' } });
  assert.ok(parseGrant(secretsOf(dir)['mail:work']?.oauthGrant), 'the agent kept the CLI\'s grant');
});
