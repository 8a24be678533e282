/**
 * Settings → Machines → a deployed machine's Upgrade button, in Debian's Chromium against the real headless agent
 * (the desktop), a real OpenSSH server on loopback and a real Mosquitto (deploy-form.ts): deployed once from the form,
 * upgraded (a new release, online, its data kept), then upgraded to a broken build (its agent exits at once): rolled
 * back to the release before, online again, and the machine's entry says so with the broken build's log; Undeploy.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { deployForm } from './deploy-form.js';

// The form's counterpart of `deploy --timeout`: the broken build is given this long to come online.
process.env.PANOPTES_DEPLOY_TIMEOUT = '45';
const { get, uiTest } = deployForm();
const release = () => path.basename(readlinkSync(path.join(get().dir, 'current')));

uiTest('Upgrade on a deployed machine: a new release online with its data; a broken build rolled back, and the entry says so', 290_000, async () => {
  const d = get();
  const { page } = d;
  await d.openForm();
  await d.fill({});
  await d.deployAndWait('done', 200_000);
  const machine = page.getByRole('list', { name: 'Machines seen' }).locator('[data-agent="fleet1"]');
  const deployed = machine.getByTestId('machine-deployed');
  const upgrade = deployed.getByRole('button', { name: 'Upgrade' });
  await upgrade.waitFor({ timeout: 60_000 });
  const release1 = release();
  const config = readFileSync(path.join(d.dir, 'data', 'config.json'), 'utf8');

  // --- Upgrade: a new release, online, the same data and configuration ---
  await upgrade.click();
  const run = deployed.locator('.deploy-run');
  await deployed.locator('.deploy-run[data-state="done"]').waitFor({ timeout: 200_000 });
  assert.match(await run.getByRole('status').innerText(), /fleet1 is online on .* with this build/);
  const release2 = release();
  assert.notEqual(release2, release1);
  await deployed.getByText(`release ${release2}`).waitFor({ timeout: 30_000 });
  assert.equal(readFileSync(path.join(d.dir, 'data', 'config.json'), 'utf8'), config);

  // --- a broken build (its launcher exits at once): rolled back to release2, which is online again ---
  const unpacked = path.join(d.work, 'broken');
  mkdirSync(path.join(unpacked, 'bin'), { recursive: true });
  assert.equal(spawnSync('tar', ['-xzf', d.goodBundle, '-C', unpacked, 'panoptes-build.json', 'package.json']).status, 0);
  writeFileSync(path.join(unpacked, 'bin', 'panoptes.js'), "console.error('this build is broken on purpose'); process.exit(3);\n");
  assert.equal(spawnSync('tar', ['-czf', d.bundle, '-C', unpacked, ...readdirSync(unpacked)]).status, 0);
  rmSync(unpacked, { recursive: true, force: true });
  await upgrade.click();
  await deployed.locator('.deploy-run[data-state="failed"]').waitFor({ timeout: 200_000 });
  const said = await run.getByRole('alert').innerText();
  assert.match(said, new RegExp(`did not report online within 45 s; rolled back to ${release2}, which is online again`));
  assert.match(said, /this build is broken on purpose/);
  assert.deepEqual(await run.locator('li').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-step')}:${e.getAttribute('data-state')}`)), ['check:done', 'copy:done', 'install:done', 'online:done', 'rollback:failed']);
  assert.equal(release(), release2);
  await machine.getByText('online', { exact: true }).waitFor({ timeout: 60_000 });
  assert.equal(readFileSync(path.join(d.dir, 'data', 'config.json'), 'utf8'), config);

  // --- Undeploy ---
  page.removeAllListeners('dialog');
  page.once('dialog', (dlg) => void dlg.accept());
  await deployed.getByRole('button', { name: 'Undeploy' }).click();
  await machine.waitFor({ state: 'detached', timeout: 90_000 });
  assert.deepEqual(d.watch.problems, []);
});
