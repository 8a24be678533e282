// `panoptes deploy` killed with SIGKILL while it copies the build (no chance to clean up or say anything): the
// desktop's Machines view (the engine's `deploy.list`) then shows that run as interrupted, with what may be left on
// the machine and what to do; deploying again completes and removes what the killed run left, and undeploy leaves
// nothing behind. The machine is reached through a Host alias of an ssh config file (HostName, Port, User,
// IdentityFile, UserKnownHostsFile), as a user's ~/.ssh/config names it; one alias goes through a slow link (a
// ProxyCommand that trickles the bytes) so the copy lasts long enough to be killed in the middle of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../helpers/tmp.js';
import { BIN } from '../helpers/agent-process.js';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { cli, retainedStatus, running, setup, sharedBundle, skip } from './helpers.js';

/** Copied builds in this machine's /tmp (the remote's, here) that were not there before the test. */
const uploads = (before: Set<string>, pattern = /^panoptes-bundle-.*\.tgz$/) =>
  readdirSync(os.tmpdir()).filter((n) => pattern.test(n) && !before.has(n) && statSync(path.join(os.tmpdir(), n), { throwIfNoEntry: false })?.uid === process.getuid?.());
/** This test's agent's copies (other deploy tests may run at the same time, with their own agent ids). */
const ours = /^panoptes-bundle-killed1-[0-9a-f-]+\.tgz$/;

/** A ProxyCommand that passes the first 64 KiB (the ssh handshake, the check step's script) freely, then 1 MiB/s. */
const TRICKLE = `import net from 'node:net';
const s = net.connect(Number(process.argv[3]), process.argv[2]);
let sent = 0;
process.stdin.on('data', (d) => {
  sent += d.length;
  s.write(d);
  if (sent > 65536) {
    process.stdin.pause();
    setTimeout(() => process.stdin.resume(), Math.ceil((d.length / 1048576) * 1000));
  }
});
process.stdin.on('end', () => s.end());
s.pipe(process.stdout);
s.on('error', () => process.exit(1));
s.on('close', () => process.exit(0));
`;

test('deploy killed (SIGKILL) while copying: shown interrupted with what to do; deploying again completes and cleans up; undeploy leaves nothing', { skip, timeout: 400_000 }, async (t) => {
  const { sshd, broker, work, dir, brokerUrl, desktopDir } = await setup(t);
  const bundle = await sharedBundle();
  const trickle = path.join(work, 'trickle.mjs');
  writeFileSync(trickle, TRICKLE);
  const [user] = sshd.target.split('@');
  const config = path.join(work, 'ssh_config');
  const host = (alias: string, extra = '') => `Host ${alias}\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${user}\n  IdentityFile ${sshd.identity}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${sshd.knownHosts}\n${extra}`;
  writeFileSync(config, host('fleetbox') + host('fleetslow', `  ProxyCommand ${process.execPath} ${trickle} %h %p\n`), { mode: 0o600 });
  const before = new Set(readdirSync(os.tmpdir()));

  // --- the deploy, killed once the copy is under way ---
  const args = ['--data', desktopDir, '--ssh-config', config, '--dir', dir, '--agent-id', 'killed1', '--broker', brokerUrl, '--bundle', bundle, '--timeout', '120'];
  const child = spawn(process.execPath, [BIN, 'deploy', 'fleetslow', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let said = '';
  child.stdout.on('data', (d) => (said += d));
  child.stderr.on('data', (d) => (said += d));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  t.after(() => void child.kill('SIGKILL'));
  const [upload] = await waitFor(() => {
    // (Named by agent id and a tag of the install folder, then a random part: see remote.ts's uploadFor.)
    const u = uploads(before, /^panoptes-bundle-killed1-[0-9a-f]{8}-[0-9a-f]{16}\.tgz$/);
    return u.length && statSync(path.join(os.tmpdir(), u[0]!), { throwIfNoEntry: false })?.size ? u : null;
  }, `the build's copy to start (deploy said: ${said})`, 120_000);
  assert.equal(child.exitCode, null, `deploy ended before it was killed: ${said}`);
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  // Its scp outlives it (a SIGKILL reaches one process) and finishes the copy or fails; wait for it to be gone.
  await waitFor(() => !running(upload!), 'the orphaned copy to end', 120_000, 200);
  assert.equal(existsSync(dir), false, 'nothing was installed');

  // --- the Machines view: interrupted, while copying, and what to do ---
  const engine = await Engine.open({ dataDir: desktopDir, log: silentLogger, startMonitors: false, agentId: 'desktop' });
  try {
    const { runs } = await engine.request('deploy.list', {});
    const run = runs.find((r) => r.agentId === 'killed1');
    assert.ok(run, `the killed deploy is listed: ${JSON.stringify(runs)}`);
    assert.equal(run.kind, 'deploy');
    assert.equal(run.target, 'fleetslow');
    assert.equal(run.state, 'interrupted');
    assert.deepEqual(run.steps.map((s) => [s.step, s.state]), [['check', 'done'], ['copy', 'failed']]);
    assert.match(run.message ?? '', /stopped while this deploy was copying the build to fleetslow: nothing was installed there\..* deploy again/);
    assert.doesNotMatch(JSON.stringify(runs), /s3cret/);
  } finally {
    await engine.close();
  }

  // --- deploying again (through the plain alias) completes, and takes away the copy the killed run left ---
  const again = await cli(['deploy', 'fleetbox', ...args]);
  assert.equal(again.code, 0, again.stderr + again.stdout);
  assert.match(again.stdout, /^killed1 is online/m);
  assert.equal((await retainedStatus(broker.url, 'killed1'))?.state, 'online');
  assert.equal(existsSync(path.join(os.tmpdir(), upload!)), false, `the killed run's copy (${upload}) is removed`);
  assert.deepEqual(uploads(before, ours), [], 'no copied build is left in /tmp');

  // --- undeploy: no process, no folder, no status, no copied build ---
  const gone = await cli(['undeploy', '--data', desktopDir, 'fleetbox', '--ssh-config', config, '--dir', dir]);
  assert.equal(gone.code, 0, gone.stderr);
  assert.match(gone.stdout, /removed killed1 from fleetbox and cleared its status on the broker/);
  assert.equal(existsSync(dir), false);
  await waitFor(() => !running(path.join(dir, 'supervise.mjs')), 'the supervisor to be gone');
  assert.equal(await retainedStatus(broker.url, 'killed1'), null);
  assert.deepEqual(uploads(before, ours), []);
});
