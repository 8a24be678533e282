// `panoptes deploy --upgrade`, on one deployed agent (one sshd, one broker, the run's packed build, one deploy for
// the whole file; the tests run in order on it): a new release keeps data and configuration; undeploy removes it
// all. (Pairing an older agent on upgrade is pairing-upgrade.test.ts: three deploys in one file passed the runner's
// 5 minutes a file under load.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../helpers/tmp.js';
import { cli, deployedAgent, running, retainedStatus, skip } from './helpers.js';

const deployed = deployedAgent();
let release1 = '';

test('deploy --upgrade: a new release, the same data and configuration', { skip, timeout: 290_000 }, async () => {
  const s = deployed();
  release1 = s.release;
  const agentDb = readFileSync(path.join(s.dir, 'data', 'config.json'), 'utf8');
  const up = await cli(['deploy', '--data', s.desktopDir, s.sshd.target, ...s.ssh, '--dir', s.dir, '--upgrade', '--bundle', s.bundle, '--timeout', '120']);
  assert.equal(up.code, 0, up.stderr + up.stdout);
  const release2 = path.basename(readlinkSync(path.join(s.dir, 'current')));
  assert.notEqual(release2, release1);
  assert.equal(readFileSync(path.join(s.dir, 'data', 'config.json'), 'utf8'), agentDb);
  assert.match(readFileSync(path.join(s.dir, 'data', 'secrets.json'), 'utf8'), /s3cret/);
  assert.equal((await retainedStatus(s.broker.url, 'fleet1'))?.release, release2);
});

test('undeploy: process, folder and retained status gone', { skip, timeout: 120_000 }, async () => {
  const s = deployed();
  const gone = await cli(['undeploy', s.sshd.target, ...s.ssh, '--dir', s.dir]);
  assert.equal(gone.code, 0, gone.stderr);
  assert.match(gone.stdout, /removed fleet1 from .* and cleared its status on the broker/);
  assert.equal(existsSync(s.dir), false);
  await waitFor(() => !running(path.join(s.dir, 'supervise.mjs')), 'the supervisor to be gone');
  assert.equal(await retainedStatus(s.broker.url, 'fleet1'), null);
});
