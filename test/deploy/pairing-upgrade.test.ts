// `panoptes deploy --upgrade` on one deployed agent (one sshd, one broker, the run's packed build, one deploy for the
// file; the tests run in order on it): the agent is made as one deployed before pairing existed (its configuration
// has no `fleet` section), so the upgrade installs a new release, keeps its data, password and configuration, and
// pairs it with the desktop of --data, whose change is then applied there; undeploy removes it all. (The upgrade of
// an agent already paired, its configuration kept byte for byte, is test/e2e/machines-upgrade: the same deploy code
// from the form's Upgrade button.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../helpers/tmp.js';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { loadOrCreateIdentity } from '../../engine/fleet/identity.js';
import { cli, deployedAgent, retainedStatus, skip, undeployAndCheck } from './helpers.js';

const deployed = deployedAgent();
const agentConfig = () => JSON.parse(readFileSync(path.join(deployed().dir, 'data', 'config.json'), 'utf8'));

test('deploy --upgrade: a new release with the same data; an agent deployed before pairing existed is paired, so this desktop can change it; it gets its own key and the desktop learns it', { skip, timeout: 290_000 }, async (t) => {
  const s = deployed();
  // Older still: no key of its own (agents had none before this round).
  rmSync(path.join(s.dir, 'data', 'agent-key'), { force: true });
  // An older agent: its configuration has no `fleet` section (deploy wrote none before pairing existed).
  const { fleet: _paired, ...older } = agentConfig();
  void _paired;
  writeFileSync(path.join(s.dir, 'data', 'config.json'), JSON.stringify(older, null, 2) + '\n', { mode: 0o600 });
  const up = await cli(['deploy', '--data', s.desktopDir, s.sshd.target, ...s.ssh, '--dir', s.dir, '--upgrade', '--bundle', s.bundle, '--timeout', '120']);
  assert.equal(up.code, 0, up.stderr + up.stdout);
  assert.match(up.stderr, /fleet1 had no desktop to take changes from: paired it with this one/);
  // A new release, online; the data and the broker password kept.
  const release2 = path.basename(readlinkSync(path.join(s.dir, 'current')));
  assert.notEqual(release2, s.release);
  assert.equal((await retainedStatus(s.broker.url, 'fleet1'))?.release, release2);
  assert.match(readFileSync(path.join(s.dir, 'data', 'secrets.json'), 'utf8'), /s3cret/);
  const identity = loadOrCreateIdentity(s.desktopDir);
  assert.equal(agentConfig().fleet.controller.publicKey, identity.publicKey);
  assert.match(agentConfig().fleet.controller.pairing, /^[A-Za-z0-9_-]{16}$/);
  // Its own key, made by the upgrade, and its public half recorded at the desktop with the new pairing.
  const keyFile = path.join(s.dir, 'data', 'agent-key');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const agentPublic = (createPublicKey(createPrivateKey(readFileSync(keyFile, 'utf8'))).export({ format: 'jwk' }) as { x: string }).x;
  const known = JSON.parse(readFileSync(path.join(s.desktopDir, 'fleet-agents.json'), 'utf8')) as Record<string, { publicKey: string; pairing: string }>;
  assert.deepEqual({ publicKey: known.fleet1!.publicKey, pairing: known.fleet1!.pairing }, { publicKey: agentPublic, pairing: agentConfig().fleet.controller.pairing });
  assert.equal(statSync(path.join(s.desktopDir, 'fleet-agents.json')).mode & 0o777, 0o600);
  // The rest of its configuration is as it was.
  assert.deepEqual({ ...agentConfig(), fleet: undefined }, { ...older, fleet: undefined });

  // Remote configuration works after it: a change from this desktop is applied there.
  writeFileSync(path.join(s.desktopDir, 'config.json'), JSON.stringify({ forwarding: { subscribe: [{ url: s.broker.url }] } }));
  const desktop = await Engine.open({ dataDir: s.desktopDir, log: silentLogger, startMonitors: false, agentId: 'desktop' });
  t.after(() => desktop.close());
  const seen = await waitFor(async () => {
    const v = await desktop.request('fleet.get', { agentId: 'fleet1' }).catch(() => null);
    return v?.paired && v.verified ? v : null;
  }, 'the desktop to see fleet1 paired with it, its state signed with the key the upgrade read', 60_000);
  const logFile = path.join(s.work, 'remote.log');
  writeFileSync(logFile, '');
  await desktop.request('fleet.saveMonitor', { agentId: 'fleet1', monitor: { id: 'log:remote', type: 'log', name: 'Remote log', config: { path: logFile } }, ifRevision: seen.revision });
  await waitFor(async () => (await desktop.request('fleet.get', { agentId: 'fleet1' })).last?.outcome === 'applied', 'the agent to answer applied', 60_000);
  assert.ok(agentConfig().monitors.some((m: { id: string }) => m.id === 'log:remote'));
  // Its answers verify too.
  const health = await desktop.request('fleet.health', { agentId: 'fleet1', timeoutMs: 30_000 });
  assert.equal(health.verified, true);
});

test('undeploy: process, folder and retained status gone', { skip, timeout: 120_000 }, () => undeployAndCheck(deployed()));
