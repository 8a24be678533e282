// `panoptes deploy` for real: it comes online with its inventory in the retained status, with 0600 config and
// secrets; the desktop it was deployed from knows where (Machines offers Upgrade and Undeploy) and will not forget it
// while it runs; deploying on top is refused; undeploy removes process, folder and status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../helpers/tmp.js';
import { cli, running, retainedStatus, setup, sharedBundle, skip } from './helpers.js';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { loadOrCreateIdentity } from '../../engine/fleet/identity.js';
import { channelPair } from '../../core/rpc/channel.js';
import { RpcClient } from '../../core/rpc/client.js';
import type { DeployRun } from '../../core/protocol.js';

test('deploy: comes online with its inventory and 0600 files; the desktop of --data offers Upgrade/Undeploy for it and will not forget it while online; a second deploy is refused; undeploy removes it all', { skip, timeout: 290_000 }, async (t) => {
  const { broker, sshd, work, dir, ssh, brokerUrl, base, desktopDir } = await setup(t);
  // The desktop of --data runs while the terminal deploys, its window connected: what it is told as it happens.
  mkdirSync(desktopDir, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(desktopDir, 'config.json'), JSON.stringify({ forwarding: { subscribe: [{ url: broker.url }] } }));
  const desktop = await Engine.open({ dataDir: desktopDir, log: silentLogger, startMonitors: false, agentId: 'desktop' });
  const [ours, theirs] = channelPair();
  desktop.connect(ours);
  const window = new RpcClient(theirs);
  const pushed: DeployRun[] = [];
  window.on('deploy', (run) => void pushed.push(run));
  t.after(async () => {
    window.close();
    await desktop.close();
  });
  // --- a real deploy ---
  // The run's packed build (sharedBundle packs it with packBundle, as the engine does for a deploy from the form).
  const first = await cli(['deploy', ...base, '--broker', brokerUrl, '--bundle', await sharedBundle()]);
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

  // Paired with the desktop of --data: its public key and a pairing id in the agent's config; a change that desktop
  // sends over the broker is applied there.
  const identity = loadOrCreateIdentity(desktopDir);
  const agentConfig = () => JSON.parse(readFileSync(path.join(dir, 'data', 'config.json'), 'utf8'));
  assert.equal(agentConfig().fleet.controller.publicKey, identity.publicKey);
  assert.match(agentConfig().fleet.controller.pairing, /^[A-Za-z0-9_-]{16}$/);
  const seen = await waitFor(() => desktop.request('fleet.get', { agentId: 'fleet1' }).catch(() => null), 'the desktop to see fleet1\'s configuration', 60_000);
  assert.equal(seen.paired, true);

  // The open window followed the terminal's deploy (its steps as they went, then its end, which has it ask again for
  // what is deployed): Upgrade and Undeploy appear on fleet1's entry without a reload.
  await waitFor(() => pushed.find((r) => r.kind === 'deploy' && r.agentId === 'fleet1' && r.state === 'done'), 'the window to be told the deploy ended', 30_000);
  assert.ok(pushed.some((r) => r.kind === 'deploy' && r.agentId === 'fleet1' && r.state === 'running' && r.steps.length), `the window is told the deploy's steps as they go: ${JSON.stringify(pushed.map((r) => r.state))}`);

  // Deployed from the terminal, managed from the window: the desktop of --data knows where fleet1 was deployed, as a
  // deploy from its Machines form leaves it, so its entry in Machines offers Upgrade and Undeploy (no secret kept).
  const { deployments } = await desktop.request('deploy.list', {});
  assert.deepEqual(
    deployments.map(({ agentId, target, port, identity, knownHosts, dir, release }) => ({ agentId, target, port, identity, knownHosts, dir, release })),
    [{ agentId: 'fleet1', target: sshd.target, port: sshd.port, identity: sshd.identity, knownHosts: sshd.knownHosts, dir, release: release1 }],
  );
  assert.doesNotMatch(JSON.stringify(deployments), /s3cret/);
  // A machine that runs is not forgotten (its next status would bring it back): the engine says what to do instead.
  await waitFor(() => desktop.forwarding.peers.list().some((p) => p.agentId === 'fleet1' && p.state === 'online'), 'the desktop to see fleet1 online', 60_000);
  await assert.rejects(desktop.request('fleet.forget', { agentId: 'fleet1' }), /fleet1 is online: a machine that runs would be back with its next status\. Undeploy it, or stop its agent there, then forget it/);
  assert.equal((await desktop.request('fleet.get', { agentId: 'fleet1' })).paired, true, 'still paired after the refusal');
  assert.equal((await desktop.request('deploy.list', {})).deployments.length, 1, 'still known as deployed from here');
  const logFile = path.join(work, 'remote.log');
  writeFileSync(logFile, '');
  await desktop.request('fleet.saveMonitor', { agentId: 'fleet1', monitor: { id: 'log:remote', type: 'log', name: 'Remote log', config: { path: logFile } }, ifRevision: seen.revision });
  await waitFor(() => agentConfig().monitors?.some((m: { id: string }) => m.id === 'log:remote'), 'the change to reach the deployed agent', 60_000);
  await waitFor(async () => (await desktop.request('fleet.get', { agentId: 'fleet1' })).last?.outcome === 'applied', 'the agent to answer applied', 30_000);

  // Deploying again on top is refused (it would clobber a running agent).
  const again = await cli(['deploy', ...base, '--broker', brokerUrl]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already deployed .* use --upgrade/);

  // --- undeploy: process, folder and retained status gone ---
  // From the desktop it was deployed from (--data): that desktop ignores an empty status of an agent whose key it holds.
  const gone = await cli(['undeploy', '--data', desktopDir, sshd.target, ...ssh, '--dir', dir]);
  assert.equal(gone.code, 0, gone.stderr);
  assert.match(gone.stdout, /removed fleet1 from .* and cleared its status on the broker/);
  assert.equal(existsSync(dir), false);
  await waitFor(() => !running(path.join(dir, 'supervise.mjs')), 'the supervisor to be gone');
  assert.equal(await retainedStatus(broker.url, 'fleet1'), null);
  // Its configuration left the broker too.
  await waitFor(() => desktop.forwarding.desks().every((d) => !d.knows('fleet1')), 'fleet1\'s configuration to be cleared', 30_000);
  // Undeployed from the terminal: the window is told, and no longer offers Upgrade or Undeploy for it.
  await waitFor(() => pushed.find((r) => r.kind === 'undeploy' && r.agentId === 'fleet1' && r.state === 'done'), 'the window to be told the undeploy ended', 30_000);
  assert.deepEqual((await desktop.request('deploy.list', {})).deployments, []);
});
