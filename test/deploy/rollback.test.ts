// `panoptes deploy --upgrade` with a broken build (its agent exits at once): rolled back to the release before it,
// which comes online again, and the broken build's log is shown.
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

test('a broken upgrade (its agent exits at once) is rolled back to the release before it, online again', { skip, timeout: 290_000 }, async (t) => {
  const { broker, sshd, work, dir, ssh, brokerUrl, base } = await setup(t);
  void broker; void work; void retainedStatus; void running;
  const bundles = path.join(work, 'bundles');
  mkdirSync(bundles);
  const good = path.join(bundles, 'good.tgz');
  packBundle(good);
  const first = await cli(['deploy', ...base, '--broker', brokerUrl, '--bundle', good]);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  const release1 = path.basename(readlinkSync(path.join(dir, 'current')));
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
  assert.match(bad.stderr, new RegExp(`did not report online within 20 s; rolled back to ${release1}, which is online again`));
  assert.match(bad.stderr, /this build is broken on purpose/);
  assert.equal(path.basename(readlinkSync(path.join(dir, 'current'))), release1);
  assert.equal((await retainedStatus(broker.url, 'fleet1'))?.state, 'online');

  // --- undeploy: process, folder and retained status gone ---
  const gone = await cli(['undeploy', sshd.target, ...ssh, '--dir', dir]);
  assert.equal(gone.code, 0, gone.stderr);
  assert.match(gone.stdout, /removed fleet1 from .* and cleared its status on the broker/);
  assert.equal(existsSync(dir), false);
  await waitFor(() => !running(path.join(dir, 'supervise.mjs')), 'the supervisor to be gone');
  assert.equal(await retainedStatus(broker.url, 'fleet1'), null);
});
