// `panoptes deploy`, `deploy --upgrade` and `undeploy` killed with SIGKILL mid-way (no chance to clean up or say
// anything): the desktop's Machines view (the engine's `deploy.list`) then shows each run as interrupted, with what may
// be left on the machine and what to do — an upgrade and an undeploy on the entry of the agent they were for, which
// the desktop knows as deployed from here (with the CLI), so Upgrade and Undeploy are there to do it. Deploying again
// completes and removes what the killed run left, and Undeploy from the window leaves nothing behind. The machine is
// reached through a Host alias of an ssh config file (HostName, Port, User, IdentityFile, UserKnownHostsFile), as a
// user's ~/.ssh/config names it; one alias goes through a slow link (a ProxyCommand that trickles the bytes) so a copy
// lasts long enough to be killed in the middle of it; a "node" that holds its remote step holds the removal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
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

/** End the scp (and its ssh) a killed run left copying `upload`, and wait until they are gone. */
async function endCopy(upload: string): Promise<void> {
  for (const line of spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout.split('\n')) {
    const [, pid, args] = /^\s*(\d+)\s+(.*)$/.exec(line) ?? [];
    if (pid && args?.includes(upload) && Number(pid) !== process.pid) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
  }
  await waitFor(() => !running(upload), 'the orphaned copy to end', 120_000, 200);
}

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

test('deploy, upgrade and undeploy killed (SIGKILL) mid-way: each shown interrupted with what to do; deploying again completes and cleans up; Undeploy from the window leaves nothing', { skip, timeout: 400_000 }, async (t) => {
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
  // Its scp outlives it (a SIGKILL reaches one process): ended here, as a closed terminal would end it, rather than
  // waited for through the slow link.
  await endCopy(upload!);
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

  // --- an upgrade (through the slow alias), killed while it copies: shown interrupted; killed1 runs as before ---
  const release1 = readlinkSync(path.join(dir, 'current'));
  const upgradeArgs = ['--data', desktopDir, '--ssh-config', config, '--dir', dir, '--upgrade', '--bundle', bundle, '--timeout', '120'];
  const upgrading = spawn(process.execPath, [BIN, 'deploy', 'fleetslow', ...upgradeArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let upgradeSaid = '';
  upgrading.stdout.on('data', (d) => (upgradeSaid += d));
  upgrading.stderr.on('data', (d) => (upgradeSaid += d));
  const upgradeExited = new Promise<NodeJS.Signals | null>((resolve) => upgrading.on('exit', (_code, signal) => resolve(signal)));
  t.after(() => void upgrading.kill('SIGKILL'));
  const [upgradeCopy] = await waitFor(() => {
    const u = uploads(before, ours);
    return u.length && statSync(path.join(os.tmpdir(), u[0]!), { throwIfNoEntry: false })?.size ? u : null;
  }, `the upgrade's copy to start (it said: ${upgradeSaid})`, 120_000);
  assert.equal(upgrading.exitCode, null, `the upgrade ended before it was killed: ${upgradeSaid}`);
  upgrading.kill('SIGKILL');
  assert.equal(await upgradeExited, 'SIGKILL');
  await endCopy(upgradeCopy!);

  // The desktop stays open from here on: each `deploy.list` is what Settings → Machines shows as it opens.
  const desktop = await Engine.open({ dataDir: desktopDir, log: silentLogger, startMonitors: false, agentId: 'desktop' });
  t.after(() => desktop.close());
  const runOf = async (kind: string) => (await desktop.request('deploy.list', {})).runs.filter((r) => r.agentId === 'killed1' && r.kind === kind).pop();
  const upgrade = await runOf('upgrade');
  assert.ok(upgrade, `the killed upgrade is listed for killed1: ${JSON.stringify((await desktop.request('deploy.list', {})).runs)}`);
  assert.equal(upgrade.state, 'interrupted');
  assert.equal(upgrade.target, 'fleetslow');
  assert.deepEqual(upgrade.steps.map((s) => [s.step, s.state]), [['check', 'done'], ['copy', 'failed']]);
  assert.match(upgrade.message ?? '', /stopped while this upgrade was copying the build to fleetslow: killed1 runs its release as before\..* Upgrade again\.$/);
  assert.equal(readlinkSync(path.join(dir, 'current')), release1, 'the release before still runs');
  assert.equal((await retainedStatus(broker.url, 'killed1'))?.state, 'online');

  // --- an undeploy, killed while it removes: shown interrupted on killed1's entry, with what to do ---
  // Its "node" answers the version check as Node would, then holds the removal (a remote step) until it is killed.
  const holdNode = path.join(work, 'hold-node');
  const holdPid = path.join(work, 'hold-node.pid');
  writeFileSync(holdNode, `#!/bin/sh\nif [ "$1" = "-e" ]; then exec ${process.execPath} -e 'console.log("PANOPTES-NODE " + process.version + " " + process.argv[1])' "$0"; fi\necho $$ > ${holdPid}\nexec sleep 300\n`, { mode: 0o755 });
  const endHold = () => {
    try {
      process.kill(Number(readFileSync(holdPid, 'utf8')), 'SIGTERM');
    } catch {
      /* ended */
    }
  };
  t.after(endHold);
  const undeploying = spawn(process.execPath, [BIN, 'undeploy', '--data', desktopDir, 'fleetbox', '--ssh-config', config, '--dir', dir, '--node', holdNode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let undeploySaid = '';
  undeploying.stdout.on('data', (d) => (undeploySaid += d));
  undeploying.stderr.on('data', (d) => (undeploySaid += d));
  const undeployExited = new Promise<NodeJS.Signals | null>((resolve) => undeploying.on('exit', (_code, signal) => resolve(signal)));
  t.after(() => void undeploying.kill('SIGKILL'));
  await waitFor(() => existsSync(holdPid) && readFileSync(holdPid, 'utf8').trim(), `the removal to be under way (undeploy said: ${undeploySaid})`, 60_000);
  assert.equal(undeploying.exitCode, null, `undeploy ended before it was killed: ${undeploySaid}`);
  undeploying.kill('SIGKILL');
  assert.equal(await undeployExited, 'SIGKILL');
  endHold();
  const undeployRun = await runOf('undeploy');
  assert.ok(undeployRun, `the killed undeploy is listed for killed1: ${JSON.stringify((await desktop.request('deploy.list', {})).runs)}`);
  assert.equal(undeployRun.state, 'interrupted');
  assert.deepEqual(undeployRun.steps.map((s) => [s.step, s.state]), [['check', 'done'], ['remove', 'failed']]);
  assert.match(undeployRun.message ?? '', /stopped while this undeploy was removing killed1 from fleetbox: killed1 may be half removed from .* there\. Undeploy again, or run `panoptes undeploy fleetbox --ssh-config \S+ --dir \S+`\.$/);
  // Its entry still offers Undeploy (it was deployed from this desktop, with the CLI).
  assert.deepEqual((await desktop.request('deploy.list', {})).deployments.map((d) => [d.agentId, d.target]), [['killed1', 'fleetbox']]);
  assert.doesNotMatch(JSON.stringify(await desktop.request('deploy.list', {})), /s3cret/);

  // --- Undeploy again, from the window: no process, no folder, no status, no copied build, no entry ---
  const removal = await desktop.request('deploy.remove', { agentId: 'killed1' });
  const removed = await waitFor(async () => (await desktop.request('deploy.list', {})).runs.find((r) => r.runId === removal.runId && r.state !== 'running'), 'the undeploy from the window to end', 120_000);
  assert.equal(removed.state, 'done', removed.message ?? '');
  assert.equal(existsSync(dir), false);
  await waitFor(() => !running(path.join(dir, 'supervise.mjs')), 'the supervisor to be gone');
  assert.equal(await retainedStatus(broker.url, 'killed1'), null);
  assert.deepEqual(uploads(before, ours), [], 'no copied build is left in /tmp (the killed upgrade\'s is removed)');
  assert.deepEqual((await desktop.request('deploy.list', {})).deployments, []);
});
