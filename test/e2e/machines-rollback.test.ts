/**
 * Settings → Machines → Upgrade to a broken build (its agent exits at once), in Debian's Chromium against the real
 * headless agent (the desktop), a real OpenSSH server on loopback and a real Mosquitto (deploy-form.ts): the upgrade
 * is rolled back to the release before, which is online again, and the machine's entry says so with the broken
 * build's log; its data and configuration are as before. The upgrade that works is machines-upgrade.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { deployForm } from './deploy-form.js';

// The form's counterpart of `deploy --timeout` (read by the desktop at each run): the seconds an agent is given to
// come online. Long enough for the good deploy on a loaded machine, short enough for the broken one.
process.env.PANOPTES_DEPLOY_TIMEOUT = '45';
const { get, uiTest } = deployForm();
const release = () => path.basename(readlinkSync(path.join(get().dir, 'current')));

uiTest('Upgrade to a broken build: rolled back to the release before, online again, and the machine\'s entry says so', 290_000, async () => {
  const d = get();
  const { machine, deployed } = await d.deployGood();
  const release1 = release();
  const config = readFileSync(path.join(d.dir, 'data', 'config.json'), 'utf8');

  // The broken build: its launcher exits at once, and the build description deploy checks (no 25 MB repack).
  const unpacked = path.join(d.work, 'broken');
  mkdirSync(path.join(unpacked, 'bin'), { recursive: true });
  assert.equal(spawnSync('tar', ['-xzf', d.goodBundle, '-C', unpacked, 'panoptes-build.json', 'package.json']).status, 0);
  writeFileSync(path.join(unpacked, 'bin', 'panoptes.js'), "console.error('this build is broken on purpose'); process.exit(3);\n");
  assert.equal(spawnSync('tar', ['-czf', d.bundle, '-C', unpacked, ...readdirSync(unpacked)]).status, 0);
  rmSync(unpacked, { recursive: true, force: true });

  await deployed.getByRole('button', { name: 'Upgrade' }).click();
  const run = deployed.locator('.deploy-run');
  await deployed.locator('.deploy-run[data-state="failed"]').waitFor({ timeout: 200_000 });
  const said = await run.getByRole('alert').innerText();
  assert.match(said, new RegExp(`did not report online within 45 s; rolled back to ${release1}, which is online again`));
  assert.match(said, /this build is broken on purpose/);
  // It did not come online, so it was rolled back (that step itself went through).
  assert.deepEqual(await run.locator('li').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-step')}:${e.getAttribute('data-state')}`)), ['check:done', 'copy:done', 'install:done', 'online:failed', 'rollback:done']);
  assert.equal(release(), release1);
  await machine.getByText('online', { exact: true }).waitFor({ timeout: 60_000 });
  assert.equal(readFileSync(path.join(d.dir, 'data', 'config.json'), 'utf8'), config);
  // (Undeploy is machines-deploy's and machines-upgrade's: here the file's clean-up stops the agent, within 5 minutes.)
  assert.deepEqual(d.watch.problems, []);
});
