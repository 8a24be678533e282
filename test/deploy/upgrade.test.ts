// `panoptes deploy --upgrade`, on one deployed agent (one sshd, one broker, one packed build, one deploy for the
// whole file; the tests run in order on it): a new release keeps data and configuration; an agent deployed before
// pairing existed is paired by the upgrade; a broken build (its agent exits at once) is rolled back to the release
// before it, which comes online again, and the broken build's log is shown; undeploy removes it all.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { waitFor } from '../helpers/tmp.js';
import { packBundle } from '../../engine/fleet/deploy/bundle.js';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { loadOrCreateIdentity } from '../../engine/fleet/identity.js';
import { cli, fileScope, running, retainedStatus, setup, skip, type Setup } from './helpers.js';

let s: Setup;
let good: string;
let release1: string;
const agentConfig = () => JSON.parse(readFileSync(path.join(s.dir, 'data', 'config.json'), 'utf8'));
const scope = fileScope();

before(async () => {
  if (skip) return;
  s = await setup(scope);
  const bundles = path.join(s.work, 'bundles');
  mkdirSync(bundles);
  good = path.join(bundles, 'good.tgz');
  packBundle(good);
  const first = await cli(['deploy', ...s.base, '--broker', s.brokerUrl, '--bundle', good]);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  release1 = path.basename(readlinkSync(path.join(s.dir, 'current')));
}, { timeout: 290_000 });
scope.register();

test('deploy --upgrade: a new release, the same data and configuration', { skip, timeout: 290_000 }, async () => {
  const agentDb = readFileSync(path.join(s.dir, 'data', 'config.json'), 'utf8');
  const up = await cli(['deploy', '--data', s.desktopDir, s.sshd.target, ...s.ssh, '--dir', s.dir, '--upgrade', '--bundle', good, '--timeout', '120']);
  assert.equal(up.code, 0, up.stderr + up.stdout);
  const release2 = path.basename(readlinkSync(path.join(s.dir, 'current')));
  assert.notEqual(release2, release1);
  assert.equal(readFileSync(path.join(s.dir, 'data', 'config.json'), 'utf8'), agentDb);
  assert.match(readFileSync(path.join(s.dir, 'data', 'secrets.json'), 'utf8'), /s3cret/);
  assert.equal((await retainedStatus(s.broker.url, 'fleet1'))?.release, release2);
  release1 = release2;
});

test('deploy --upgrade pairs an agent deployed before pairing existed, so this desktop can change it', { skip, timeout: 290_000 }, async (t) => {
  // An older agent: its configuration has no `fleet` section (deploy wrote none before pairing existed).
  const { fleet: _paired, ...older } = agentConfig();
  void _paired;
  writeFileSync(path.join(s.dir, 'data', 'config.json'), JSON.stringify(older, null, 2) + '\n', { mode: 0o600 });
  const up = await cli(['deploy', '--data', s.desktopDir, s.sshd.target, ...s.ssh, '--dir', s.dir, '--upgrade', '--bundle', good, '--timeout', '120']);
  assert.equal(up.code, 0, up.stderr + up.stdout);
  assert.match(up.stderr, /fleet1 had no desktop to take changes from: paired it with this one/);
  release1 = path.basename(readlinkSync(path.join(s.dir, 'current')));
  const identity = loadOrCreateIdentity(s.desktopDir);
  assert.equal(agentConfig().fleet.controller.publicKey, identity.publicKey);
  assert.match(agentConfig().fleet.controller.pairing, /^[A-Za-z0-9_-]{16}$/);
  // The rest of its configuration is as it was.
  assert.deepEqual({ ...agentConfig(), fleet: undefined }, { ...older, fleet: undefined });

  // Remote configuration works after it: a change from this desktop is applied there.
  writeFileSync(path.join(s.desktopDir, 'config.json'), JSON.stringify({ forwarding: { subscribe: [{ url: s.broker.url }] } }));
  const desktop = await Engine.open({ dataDir: s.desktopDir, log: silentLogger, startMonitors: false, agentId: 'desktop' });
  t.after(() => desktop.close());
  const seen = await waitFor(async () => {
    const v = await desktop.request('fleet.get', { agentId: 'fleet1' }).catch(() => null);
    return v?.paired ? v : null;
  }, 'the desktop to see fleet1 paired with it', 60_000);
  const logFile = path.join(s.work, 'remote.log');
  writeFileSync(logFile, '');
  await desktop.request('fleet.saveMonitor', { agentId: 'fleet1', monitor: { id: 'log:remote', type: 'log', name: 'Remote log', config: { path: logFile } }, ifRevision: seen.revision });
  await waitFor(async () => (await desktop.request('fleet.get', { agentId: 'fleet1' })).last?.outcome === 'applied', 'the agent to answer applied', 60_000);
  assert.ok(agentConfig().monitors.some((m: { id: string }) => m.id === 'log:remote'));
});

test('a broken upgrade (its agent exits at once) is rolled back to the release before it, online again', { skip, timeout: 290_000 }, async () => {
  const configBefore = readFileSync(path.join(s.dir, 'data', 'config.json'), 'utf8');
  const unpacked = path.join(s.work, 'broken');
  mkdirSync(unpacked);
  assert.equal(spawnSync('tar', ['-xzf', good, '-C', unpacked]).status, 0);
  writeFileSync(path.join(unpacked, 'bin', 'panoptes.js'), "console.error('this build is broken on purpose'); process.exit(3);\n");
  const broken = path.join(s.work, 'bundles', 'broken.tgz');
  assert.equal(spawnSync('tar', ['-czf', broken, '-C', unpacked, ...readdirSync(unpacked)]).status, 0);
  rmSync(unpacked, { recursive: true, force: true });
  const bad = await cli(['deploy', '--data', s.desktopDir, s.sshd.target, ...s.ssh, '--dir', s.dir, '--upgrade', '--bundle', broken, '--timeout', '20']);
  assert.equal(bad.code, 1, bad.stdout);
  assert.match(bad.stderr, new RegExp(`did not report online within 20 s; rolled back to ${release1}, which is online again`));
  assert.match(bad.stderr, /this build is broken on purpose/);
  assert.equal(path.basename(readlinkSync(path.join(s.dir, 'current'))), release1);
  assert.equal((await retainedStatus(s.broker.url, 'fleet1'))?.state, 'online');
  assert.equal(readFileSync(path.join(s.dir, 'data', 'config.json'), 'utf8'), configBefore);
});

test('undeploy: process, folder and retained status gone', { skip, timeout: 120_000 }, async () => {
  const gone = await cli(['undeploy', s.sshd.target, ...s.ssh, '--dir', s.dir]);
  assert.equal(gone.code, 0, gone.stderr);
  assert.match(gone.stdout, /removed fleet1 from .* and cleared its status on the broker/);
  assert.equal(existsSync(s.dir), false);
  await waitFor(() => !running(path.join(s.dir, 'supervise.mjs')), 'the supervisor to be gone');
  assert.equal(await retainedStatus(s.broker.url, 'fleet1'), null);
});
