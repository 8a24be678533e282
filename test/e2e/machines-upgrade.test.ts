/**
 * Settings → Machines → a deployed machine's Upgrade button, in Debian's Chromium against the real headless agent
 * (the desktop), a real OpenSSH server on loopback and a real Mosquitto (deploy-form.ts): deployed from the form,
 * upgraded (a new release, online, its data and configuration kept). A broken upgrade rolled back is
 * machines-rollback.test.ts (both in one file passed the runner's 5 minutes a file under load).
 */
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { deployForm } from './deploy-form.js';

const { get, uiTest } = deployForm();
const release = () => path.basename(readlinkSync(path.join(get().dir, 'current')));

uiTest('Upgrade on a deployed machine: a new release, online, with its data and configuration', 290_000, async () => {
  const d = get();
  const { machine, deployed } = await d.deployGood();
  const release1 = release();
  const config = readFileSync(path.join(d.dir, 'data', 'config.json'), 'utf8');
  await deployed.getByRole('button', { name: 'Upgrade' }).click();
  const run = deployed.locator('.deploy-run');
  await deployed.locator('.deploy-run[data-state="done"]').waitFor({ timeout: 200_000 });
  assert.match(await run.getByRole('status').innerText(), /fleet1 is online on .* with this build/);
  assert.deepEqual(await run.locator('li').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-step')}:${e.getAttribute('data-state')}`)), ['check:done', 'copy:done', 'install:done', 'online:done']);
  const release2 = release();
  assert.notEqual(release2, release1);
  await deployed.getByText(`release ${release2}`).waitFor({ timeout: 30_000 });
  assert.equal(readFileSync(path.join(d.dir, 'data', 'config.json'), 'utf8'), config);
  assert.match(readFileSync(path.join(d.dir, 'data', 'secrets.json'), 'utf8'), /s3cret/);
  await machine.getByText('online', { exact: true }).waitFor({ timeout: 60_000 });
  // (Undeploy from the form is machines-deploy's: here the file's clean-up stops the agent, within 5 minutes.)
  assert.deepEqual(d.watch.problems, []);
});
