// Deploys started from the form (the engine's `deploy.*` requests), without a full deploy: the ssh fields are checked
// where the user can fix them (an ssh config file, key file, known_hosts file, a host:port target), a host alias from
// an ssh config file reaches the machine as `ssh` would, and a run survives an engine restart: one that was under way
// is marked interrupted and says what may be left on the machine and how to remove it. Never a secret in what is kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../helpers/tmp.js';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import type { DeployRun } from '../../core/protocol.js';
import { cli, setup, skip } from './helpers.js';

interface Issue {
  path: string;
  message: string;
}
const issuesOf = async (p: Promise<unknown>): Promise<Issue[]> => {
  try {
    await p;
  } catch (err) {
    return (err as { issues?: Issue[] }).issues ?? [{ path: '?', message: (err as Error).message }];
  }
  throw new Error('the request was not refused');
};

test('the form\'s ssh fields: field-level errors, a host alias from an ssh config file, runs kept across an engine restart', { skip, timeout: 200_000 }, async (t) => {
  const { sshd, work, dir, brokerUrl } = await setup(t);
  const desktopDir = path.join(work, 'desktop');
  const open = () => Engine.open({ dataDir: desktopDir, log: silentLogger, startMonitors: false, agentId: 'desktop' });
  let engine = await open();
  t.after(() => engine.close());
  const good = { target: sshd.target, broker: brokerUrl, port: sshd.port, identity: sshd.identity, knownHosts: sshd.knownHosts, dir };

  // An ssh config as a user writes one: the alias names the host, port, user, key and known_hosts.
  const config = path.join(work, 'ssh_config');
  const [user] = sshd.target.split('@');
  writeFileSync(config, `Host fleetbox\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${user}\n  IdentityFile ${sshd.identity}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${sshd.knownHosts}\n`, { mode: 0o600 });

  // --- each field's problem at its field, before anything runs ---
  const at = async (patch: Record<string, unknown>, field: string, message: RegExp) => {
    const issues = await issuesOf(engine.request('deploy.start', { ...good, ...patch } as never));
    assert.ok(issues.some((i) => i.path === `$.${field}` && message.test(i.message)), `${JSON.stringify(patch)}: ${JSON.stringify(issues)}`);
  };
  await at({ sshConfig: path.join(work, 'no-such-config') }, 'sshConfig', /no file at .*no-such-config/);
  const broken = path.join(work, 'ssh_config.broken');
  writeFileSync(broken, 'Host fleetbox\n  NoSuchOption yes\n');
  await at({ target: 'fleetbox', sshConfig: broken }, 'sshConfig', /line 2: Bad configuration option: nosuchoption/i);
  await at({ identity: path.join(work, 'no-such-key') }, 'identity', /no key file at .*no-such-key/);
  await at({ knownHosts: path.join(work, 'no-such-known-hosts') }, 'knownHosts', /no file at .*no-such-known-hosts/);
  await at({ target: `${sshd.target}:${sshd.port}` }, 'target', /ssh does not take host:port.*SSH port/);
  assert.deepEqual((await engine.request('deploy.list', {})).runs, []);

  // --- a host alias from the ssh config file reaches the machine (it answers that there is no Node at that path) ---
  const aliased = await engine.request('deploy.start', { target: 'fleetbox', sshConfig: config, broker: brokerUrl, dir, node: '/nonexistent/bin/node' } as never);
  const ended = await waitFor(async () => (await engine.request('deploy.list', {})).runs.find((r) => r.runId === aliased.runId && r.state !== 'running'), 'the aliased run to end', 60_000);
  assert.equal(ended.state, 'failed');
  assert.match(ended.message ?? '', /there is no Node at \/nonexistent\/bin\/node on fleetbox/);
  // The CLI takes the same alias with --ssh-config.
  const viaCli = await cli(['deploy', '--data', desktopDir, 'fleetbox', '--ssh-config', config, '--broker', brokerUrl, '--dir', dir, '--node', '/nonexistent/bin/node']);
  assert.equal(viaCli.code, 1);
  assert.match(viaCli.stderr, /there is no Node at \/nonexistent\/bin\/node on fleetbox/);

  // --- a run under way when the engine stops: after the restart it is interrupted, and says what is left ---
  // A "node" that never answers holds the run in its check step.
  const slowNode = path.join(work, 'slow-node');
  const slowPid = path.join(work, 'slow-node.pid');
  writeFileSync(slowNode, `#!/bin/sh\necho $$ > ${slowPid}\nexec sleep 120\n`, { mode: 0o755 });
  const endSlow = () => {
    try {
      process.kill(Number(readFileSync(slowPid, 'utf8')), 'SIGTERM');
    } catch {
      /* ended */
    }
  };
  t.after(endSlow);
  const held = await engine.request('deploy.start', { ...good, agentId: 'held1', node: slowNode });
  await waitFor(() => readFileSync(slowPid, 'utf8').trim(), 'the remote check to be under way', 60_000);
  await engine.close();
  engine = await open();
  // The engine that ran it is gone; its ssh session ends with the remote command (else sshd's stop would wait for it).
  endSlow();
  const { runs } = await engine.request('deploy.list', {});
  const after = runs.find((r) => r.runId === held.runId) as (DeployRun & { state: string }) | undefined;
  assert.ok(after, `the run is kept across the restart: ${JSON.stringify(runs)}`);
  assert.equal(after.state, 'interrupted');
  assert.equal(after.steps[0]?.step, 'check');
  // When it began, each step when it began, and when it was found interrupted.
  assert.ok(after.steps[0]?.at && after.endedAt && Date.parse(after.steps[0].at) >= Date.parse(after.startedAt) && Date.parse(after.endedAt) >= Date.parse(after.steps[0].at), JSON.stringify(after));
  assert.match(after.message ?? '', /Panoptes stopped while this deploy was checking .*: nothing was installed there; deploy again/);
  // The finished run of before the restart is kept too.
  assert.equal(runs.find((r) => r.runId === aliased.runId)?.state, 'failed');
  // What is kept holds no secret (the broker password stays in the secret store).
  assert.doesNotMatch(JSON.stringify(runs), /s3cret/);
});
