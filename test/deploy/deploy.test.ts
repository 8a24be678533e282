// `panoptes deploy` against a real sshd (this machine, logged into over loopback with a throw-away key and host key
// checking on) and a real Mosquitto: every refusal leaves nothing behind; a deploy comes online with its inventory;
// an upgrade keeps data and config; a broken upgrade is rolled back; undeploy removes it all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import { BIN } from '../helpers/agent-process.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { closedPort } from '../helpers/ports.js';
import { mosquittoAvailable, startMosquitto } from '../helpers/mosquitto.js';
import { sshdAvailable, startSshd } from '../helpers/sshd.js';
import { packBundle } from '../../cli/deploy/bundle.js';
import { decodeStatus, statusTopic, type AgentStatus } from '../../engine/forwarding/wire.js';

const skip = !sshdAvailable() ? 'skipped: no /usr/sbin/sshd (apt-get install openssh-server openssh-client)' : !mosquittoAvailable() ? 'skipped: no mosquitto' : false;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { timeout: 400_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Is a process whose command line mentions `needle` running? */
function running(needle: string): boolean {
  const r = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return r.stdout.split('\n').some((l) => l.includes(needle) && !l.includes('ps -eo'));
}

async function retainedStatus(url: string, agentId: string): Promise<AgentStatus | null> {
  const c = await connectAsync(url);
  try {
    let got: AgentStatus | null = null;
    let seen = false;
    c.on('message', (_t, p) => {
      seen = true;
      got = decodeStatus(p, agentId);
    });
    await c.subscribeAsync(statusTopic(agentId), { qos: 1 });
    // A retained message arrives right after SUBACK; give it a moment, then a publish round trip as a barrier.
    await c.publishAsync('panoptes-test/barrier', 'x', { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    return seen ? got : null;
  } finally {
    await c.endAsync();
  }
}

test('deploy: refusals leave nothing behind; deploy, come online with inventory, upgrade, roll back a broken upgrade, undeploy', { skip, timeout: 900_000 }, async (t) => {
  const broker = await startMosquitto({ persistence: false });
  t.after(() => broker.close());
  const sshd = await startSshd();
  t.after(() => sshd.close());
  // A failed step must not leave the deployed agent running: stop its supervisor (which stops the agent). Hooks
  // run in the order they were added, so this one comes before the temp folder's removal.
  let dir = '';
  t.after(() => {
    try {
      process.kill(Number(readFileSync(path.join(dir, 'supervisor.pid'), 'utf8')), 'SIGTERM');
    } catch {
      /* not running */
    }
  });
  const work = tempDir(t, 'panoptes-deploy-test-');
  dir = path.join(work, 'agent');
  const ssh = sshd.deployArgs();
  const brokerUrl = `mqtt://deployer:s3cret@127.0.0.1:${broker.port}`;
  const base = [sshd.target, ...ssh, '--dir', dir, '--service', 'pidfile', '--agent-id', 'fleet1', '--timeout', '120'];

  // --- refusals: each a clear sentence, and no install folder afterwards ---
  const wrongHost = await cli(['deploy', sshd.target, '--port', String(sshd.port), '--identity', sshd.identity, '--known-hosts', sshd.wrongKnownHosts, '--dir', dir, '--broker', brokerUrl]);
  assert.equal(wrongHost.code, 1, wrongHost.stderr);
  assert.match(wrongHost.stderr, /host key of 127\.0\.0\.1 does not match the one in your known_hosts.*never skips this check/);

  const wrongKey = await cli(['deploy', sshd.target, '--port', String(sshd.port), '--identity', sshd.strangerIdentity, '--known-hosts', sshd.knownHosts, '--dir', dir, '--broker', brokerUrl]);
  assert.equal(wrongKey.code, 1, wrongKey.stderr);
  assert.match(wrongKey.stderr, /refused the login \(publickey\).*--identity/);

  const noNode = await cli(['deploy', ...base, '--broker', brokerUrl, '--node', '/nonexistent/bin/node']);
  assert.equal(noNode.code, 1);
  assert.match(noNode.stderr, /there is no Node at \/nonexistent\/bin\/node on 127\.0\.0\.1: install Node 20 or newer/);

  // An old Node: the real one, reporting itself as 16.
  const oldNode = path.join(work, 'old-node');
  writeFileSync(oldNode, `#!/bin/sh\n[ "$1" = "-e" ] || exec ${process.execPath} "$@"\nexec ${process.execPath} -e "Object.defineProperty(process, 'version', { value: 'v16.20.2' }); $2"\n`, { mode: 0o755 });
  const old = await cli(['deploy', ...base, '--broker', brokerUrl, '--node', oldNode]);
  assert.equal(old.code, 1);
  assert.match(old.stderr, /Node v16\.20\.2 on 127\.0\.0\.1 is too old: the agent needs Node 20 or newer/);

  // No write permission (as root, permissions do not stop us: a file where a folder should be does).
  let readOnly: string;
  if (process.getuid?.() === 0) {
    writeFileSync(path.join(work, 'a-file'), '');
    readOnly = path.join(work, 'a-file', 'agent');
  } else {
    mkdirSync(path.join(work, 'ro'), { mode: 0o500 });
    readOnly = path.join(work, 'ro', 'agent');
  }
  const noWrite = await cli(['deploy', sshd.target, ...ssh, '--dir', readOnly, '--service', 'pidfile', '--broker', brokerUrl]);
  assert.equal(noWrite.code, 1);
  assert.match(noWrite.stderr, /cannot write to .*a-file\/agent|cannot write to .*ro\/agent/);
  assert.match(noWrite.stderr, /choose a folder this user can write with --dir/);

  const deadBroker = `mqtt://127.0.0.1:${await closedPort()}`;
  const unreachable = await cli(['deploy', ...base, '--broker', deadBroker]);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /the broker 127\.0\.0\.1:\d+ is not reachable from .* \(connection refused\); the agent would never come online/);

  assert.equal(existsSync(dir), false, 'a refused deploy left the install folder behind');
  assert.equal(running(path.join(dir, 'supervise.mjs')), false);

  // --- a real deploy ---
  const first = await cli(['deploy', ...base, '--broker', brokerUrl]);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.match(first.stdout, /^fleet1 is online \(Panoptes 0\.\d+\.\d+ on .*, release .*, supervised process in /m);
  const release1 = path.basename(readlinkSync(path.join(dir, 'current')));
  // Config and broker credentials: 0600 files; the password only in secrets.json.
  const mode = (f: string) => statSync(path.join(dir, 'data', f)).mode & 0o777;
  assert.equal(mode('config.json'), 0o600);
  assert.equal(mode('secrets.json'), 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.doesNotMatch(readFileSync(path.join(dir, 'data', 'config.json'), 'utf8'), /s3cret/);
  assert.match(readFileSync(path.join(dir, 'data', 'secrets.json'), 'utf8'), /s3cret/);
  assert.equal(running(path.join(dir, 'supervise.mjs')), true);

  // Inventory in the retained status.
  const s1 = await waitFor(() => retainedStatus(broker.url, 'fleet1'), 'fleet1 status');
  assert.equal(s1.state, 'online');
  assert.equal(s1.release, release1);
  assert.equal(s1.hostname, os.hostname());
  assert.match(s1.version ?? '', /^\d+\.\d+\.\d+/);
  assert.match(s1.os ?? '', /Linux/);
  assert.ok(Array.isArray(s1.monitors));
  assert.equal(typeof s1.queue, 'number');
  assert.equal(typeof s1.uptime, 'number');

  // Deploying again on top is refused (it would clobber a running agent).
  const again = await cli(['deploy', ...base, '--broker', brokerUrl]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already deployed .* use --upgrade/);

  // --- upgrade: a new release, the same data and configuration ---
  const agentDb = readFileSync(path.join(dir, 'data', 'config.json'), 'utf8');
  const bundles = path.join(work, 'bundles');
  mkdirSync(bundles);
  const good = path.join(bundles, 'good.tgz');
  packBundle(good);
  const up = await cli(['deploy', sshd.target, ...ssh, '--dir', dir, '--upgrade', '--bundle', good, '--timeout', '120']);
  assert.equal(up.code, 0, up.stderr + up.stdout);
  const release2 = path.basename(readlinkSync(path.join(dir, 'current')));
  assert.notEqual(release2, release1);
  assert.equal(readFileSync(path.join(dir, 'data', 'config.json'), 'utf8'), agentDb);
  assert.match(readFileSync(path.join(dir, 'data', 'secrets.json'), 'utf8'), /s3cret/);
  assert.equal((await retainedStatus(broker.url, 'fleet1'))?.release, release2);

  // --- a broken upgrade (its agent exits at once) is rolled back to the release before it ---
  const unpacked = path.join(work, 'broken');
  mkdirSync(unpacked);
  assert.equal(spawnSync('tar', ['-xzf', good, '-C', unpacked]).status, 0);
  writeFileSync(path.join(unpacked, 'bin', 'panoptes.js'), "console.error('this build is broken on purpose'); process.exit(3);\n");
  const broken = path.join(bundles, 'broken.tgz');
  assert.equal(spawnSync('tar', ['-czf', broken, '-C', unpacked, ...readdirSync(unpacked)]).status, 0);
  rmSync(unpacked, { recursive: true, force: true });
  const bad = await cli(['deploy', sshd.target, ...ssh, '--dir', dir, '--upgrade', '--bundle', broken, '--timeout', '20']);
  assert.equal(bad.code, 1, bad.stdout);
  assert.match(bad.stderr, new RegExp(`did not report online within 20 s; rolled back to ${release2}, which is online again`));
  assert.match(bad.stderr, /this build is broken on purpose/);
  assert.equal(path.basename(readlinkSync(path.join(dir, 'current'))), release2);
  assert.equal((await retainedStatus(broker.url, 'fleet1'))?.state, 'online');

  // --- undeploy: process, folder and retained status gone ---
  const gone = await cli(['undeploy', sshd.target, ...ssh, '--dir', dir]);
  assert.equal(gone.code, 0, gone.stderr);
  assert.match(gone.stdout, /removed fleet1 from .* and cleared its status on the broker/);
  assert.equal(existsSync(dir), false);
  await waitFor(() => !running(path.join(dir, 'supervise.mjs')), 'the supervisor to be gone');
  assert.equal(await retainedStatus(broker.url, 'fleet1'), null);
  void chmodSync;
});
