// `panoptes deploy --upgrade`: a new release with the same data and configuration; a broken one (its agent exits
// at once) is rolled back to the release before it, which comes online again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { waitFor } from '../helpers/tmp.js';
import { closedPort } from '../helpers/ports.js';
import { packBundle } from '../../cli/deploy/bundle.js';
import { cli, running, retainedStatus, setup, skip } from './helpers.js';

test('deploy --upgrade keeps data and config; a broken upgrade is rolled back; undeploy', { skip, timeout: 290_000 }, async (t) => {
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
});
