/**
 * Settings → Machines → Deploy an agent, in Debian's Chromium against the real headless agent (the desktop), a real
 * OpenSSH server on loopback (this machine, the test key, host keys checked) and a real Mosquitto (deploy-form.ts):
 * a deploy from the form to a host alias of an ssh config file (as a user's ~/.ssh/config names machines), its
 * steps as they go and again after the page is reloaded mid-deploy, the machine online in Machines with Upgrade and
 * Undeploy; Undeploy removes it. Upgrade is machines-upgrade.test.ts, the refusals machines-deploy-refusals.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { screenshot } from './harness.js';
import { deployForm } from './deploy-form.js';

const { get, uiTest } = deployForm();

uiTest('Deploy from Settings → Machines to an ssh config alias: its steps, kept across a reload; online with Upgrade and Undeploy; Undeploy removes it', 290_000, async () => {
  const d = get();
  const { page, sshd } = d;
  let form = await d.openForm();
  // The alias names everything ssh needs: host, port, user, key, known_hosts; the form gives only the config file.
  const config = path.join(d.work, 'ssh_config');
  writeFileSync(config, `Host fleetbox\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${sshd.target.split('@')[0]}\n  IdentityFile ${sshd.identity}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${sshd.knownHosts}\n`, { mode: 0o600 });
  await d.fill({ target: 'fleetbox', sshConfig: config, port: '', identity: '', knownHosts: '' });
  await form.getByRole('button', { name: 'Deploy' }).click();
  await d.run().locator('li[data-step="check"]').waitFor();
  const runId = await d.run().getAttribute('data-run');

  // The window reloads mid-deploy: the form shows the same run again, and follows it to its end.
  await page.reload();
  await page.getByRole('link', { name: 'Settings' }).click();
  form = d.form();
  await form.locator(`.deploy-run[data-run="${runId}"]`).waitFor({ timeout: 30_000 });
  await form.locator(`.deploy-run[data-run="${runId}"][data-state="done"]`).waitFor({ timeout: 240_000 });
  assert.deepEqual(await d.run().locator('li').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-step')}:${e.getAttribute('data-state')}`)), ['check:done', 'copy:done', 'install:done', 'online:done']);
  assert.match(await d.run().getByRole('status').innerText(), /fleet1 is online on fleetbox/);
  const machine = page.getByRole('list', { name: 'Machines seen' }).locator('[data-agent="fleet1"]');
  await machine.getByText('online', { exact: true }).waitFor({ timeout: 60_000 });
  const deployed = machine.getByTestId('machine-deployed');
  await deployed.getByRole('button', { name: 'Upgrade' }).waitFor({ timeout: 30_000 });
  assert.match(await deployed.innerText(), /deployed from here to fleetbox/);
  assert.equal(existsSync(path.join(d.dir, 'data', 'config.json')), true);
  // The README's picture: the machine in the list with its buttons, down to the form's steps (options folded).
  if (await form.locator('#dep-port').isVisible()) await form.getByText('SSH and install options').click();
  await page.setViewportSize({ width: 1100, height: 1700 });
  await machine.evaluate((e) => e.scrollIntoView({ block: 'start' }));
  await screenshot(page, 'machines-deploy');
  await page.setViewportSize({ width: 1100, height: 1000 });

  // --- Undeploy from the machine's entry (through the alias, as deployed): stopped, removed, gone from the list ---
  await d.undeploy(machine, deployed);
  assert.deepEqual(d.watch.problems, []);
  assert.deepEqual(d.watch.externalRequests, []);
});
