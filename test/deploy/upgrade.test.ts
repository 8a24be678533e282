// `panoptes deploy --upgrade`: a new release with the same data and configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { waitFor } from '../helpers/tmp.js';
import { closedPort } from '../helpers/ports.js';
import { packBundle } from '../../engine/fleet/deploy/bundle.js';
import { cli, running, retainedStatus, setup, skip } from './helpers.js';

test('deploy --upgrade: a new release, the same data and configuration; undeploy', { skip, timeout: 290_000 }, async (t) => {
  const { broker, sshd, work, dir, ssh, brokerUrl, base } = await setup(t);
  void broker; void work; void retainedStatus; void running;
  const bundles = path.join(work, 'bundles');
  mkdirSync(bundles);
  const good = path.join(bundles, 'good.tgz');
  packBundle(good);
  const first = await cli(['deploy', ...base, '--broker', brokerUrl, '--bundle', good]);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  const release1 = path.basename(readlinkSync(path.join(dir, 'current')));
  // --- upgrade: a new release, the same data and configuration ---
  const agentDb = readFileSync(path.join(dir, 'data', 'config.json'), 'utf8');
  const up = await cli(['deploy', sshd.target, ...ssh, '--dir', dir, '--upgrade', '--bundle', good, '--timeout', '120']);
  assert.equal(up.code, 0, up.stderr + up.stdout);
  const release2 = path.basename(readlinkSync(path.join(dir, 'current')));
  assert.notEqual(release2, release1);
  assert.equal(readFileSync(path.join(dir, 'data', 'config.json'), 'utf8'), agentDb);
  assert.match(readFileSync(path.join(dir, 'data', 'secrets.json'), 'utf8'), /s3cret/);
  assert.equal((await retainedStatus(broker.url, 'fleet1'))?.release, release2);

  // --- undeploy: process, folder and retained status gone ---
  const gone = await cli(['undeploy', sshd.target, ...ssh, '--dir', dir]);
  assert.equal(gone.code, 0, gone.stderr);
  assert.match(gone.stdout, /removed fleet1 from .* and cleared its status on the broker/);
  assert.equal(existsSync(dir), false);
  await waitFor(() => !running(path.join(dir, 'supervise.mjs')), 'the supervisor to be gone');
  assert.equal(await retainedStatus(broker.url, 'fleet1'), null);
});
