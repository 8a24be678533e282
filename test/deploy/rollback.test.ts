// `panoptes deploy --upgrade` with a broken build (its agent exits at once), on one deployed agent (one sshd, one
// broker, the run's packed build, one deploy for the file): rolled back to the release before it, which comes
// online again, and the broken build's log is shown; undeploy removes it all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { waitFor } from '../helpers/tmp.js';
import { cli, deployedAgent, retainedStatus, skip, undeployAndCheck } from './helpers.js';

const deployed = deployedAgent();

test('a broken upgrade (its agent exits at once) is rolled back to the release before it, online again', { skip, timeout: 290_000 }, async () => {
  const s = deployed();
  const release1 = s.release;
  const configBefore = readFileSync(path.join(s.dir, 'data', 'config.json'), 'utf8');
  // The broken build: its launcher exits at once, and the build description deploy checks — all an install
  // unpacks and starts (no need to repack the whole 25 MB build, minutes on a busy machine).
  const unpacked = path.join(s.work, 'broken');
  mkdirSync(path.join(unpacked, 'bin'), { recursive: true });
  assert.equal(spawnSync('tar', ['-xzf', s.bundle, '-C', unpacked, 'panoptes-build.json', 'package.json']).status, 0);
  writeFileSync(path.join(unpacked, 'bin', 'panoptes.js'), "console.error('this build is broken on purpose'); process.exit(3);\n");
  const broken = path.join(s.work, 'broken.tgz');
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

test('undeploy: process, folder and retained status gone', { skip, timeout: 120_000 }, () => undeployAndCheck(deployed()));
