/**
 * Settings → Machines → Deploy an agent, in Debian's Chromium against the real headless agent (the desktop), a real
 * OpenSSH server on loopback (this machine, the test key, host keys checked) and a real Mosquitto: a deploy from the
 * form (the engine packs this build and runs the CLI's deploy), its steps as they go, the machine online in Machines
 * with Upgrade and Undeploy; Undeploy removes it. The refusals are machines-deploy-refusals.test.ts.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { mosquittoAvailable, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { sshdAvailable, startSshd, type SshServer } from '../helpers/sshd.js';
import { launchChromium, openAgentPage, screenshot, startAgent, watchPage, type Agent, type PageWatch, uiTest as harnessUiTest } from './harness.js';

const skip = !sshdAvailable() ? 'skipped: no /usr/sbin/sshd (apt-get install openssh-server openssh-client)' : !mosquittoAvailable() ? 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)' : false;

let broker: Mosquitto;
let sshd: SshServer;
let agent: Agent;
let browser: Browser;
let page: Page;
let watch: PageWatch;
let work: string;
let dir: string;

before(async () => {
  if (skip) return;
  work = mkdtempSync(path.join(os.tmpdir(), 'panoptes-e2e-deploy-'));
  dir = path.join(work, 'agent');
  broker = await startMosquitto({ persistence: false });
  sshd = await startSshd();
  agent = await startAgent((d) => writeFileSync(path.join(d, 'config.json'), JSON.stringify({ forwarding: { subscribe: [{ url: broker.url }] } })));
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1100, height: 1000 }, colorScheme: 'light' });
  page = await context.newPage();
  watch = watchPage(page);
});

after(async () => {
  // A failed step must not leave the deployed agent running: its supervisor stops it.
  try {
    process.kill(Number(readFileSync(path.join(dir, 'supervisor.pid'), 'utf8')), 'SIGTERM');
  } catch {
    /* not running */
  }
  await browser?.close();
  await agent?.stop();
  await sshd?.close();
  await broker?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const uiTest = (name: string, timeout: number, fn: () => Promise<void>) => harnessUiTest(() => page, name, { timeout, skip }, fn);

interface Fill {
  target?: string;
  agentId?: string;
  broker?: string;
  port?: string;
  identity?: string;
  knownHosts?: string;
  dir?: string;
  node?: string;
}

uiTest('Deploy from Settings → Machines: its steps as they go, online in Machines with Upgrade and Undeploy; Undeploy removes it', 290_000, async () => {
  await openAgentPage(page, agent);
  await page.getByRole('link', { name: 'Settings' }).click();
  const form = page.getByRole('form', { name: 'Deploy an agent' });
  await form.waitFor();
  const brokerUrl = `mqtt://deployer:s3cret@127.0.0.1:${broker.port}`;
  const good: Fill = { target: sshd.target, agentId: 'fleet1', broker: brokerUrl, port: String(sshd.port), identity: sshd.identity, knownHosts: sshd.knownHosts, dir, node: '' };
  const fill = async (f: Fill) => {
    if (!(await form.locator('#dep-port').isVisible())) await form.getByText('SSH and install options').click();
    for (const [k, v] of Object.entries({ ...good, ...f })) await form.locator(`#dep-${k}`).fill(v ?? '');
    await form.locator('#dep-service').selectOption('pidfile');
  };
  const run = form.locator('.deploy-run');
  /** Click Deploy and wait for the new run (not the one shown before) to end in `state`. */
  const deployAndWait = async (state: 'failed' | 'done', timeout: number) => {
    const before = (await run.count()) ? await run.getAttribute('data-run') : null;
    await form.getByRole('button', { name: 'Deploy' }).click();
    await form.locator(`.deploy-run[data-state="${state}"]${before ? `:not([data-run="${before}"])` : ''}`).waitFor({ timeout });
  };
  /** Deploy with these fields and wait for the run to fail: its message. */
  const refused = async (f: Fill): Promise<string> => {
    await fill(f);
    await deployAndWait('failed', 90_000);
    const message = await run.getByRole('alert').innerText();
    assert.equal(existsSync(dir), false, `a refused deploy left ${dir} behind: ${message}`);
    return message;
  };

  // --- a real deploy from the form ---
  await fill({});
  await deployAndWait('done', 240_000);
  assert.deepEqual(await run.locator('li').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-step')}:${e.getAttribute('data-state')}`)), ['check:done', 'copy:done', 'install:done', 'online:done']);
  assert.match(await run.getByRole('status').innerText(), /fleet1 is online on /);
  const machine = page.getByRole('list', { name: 'Machines seen' }).locator('[data-agent="fleet1"]');
  await machine.getByText('online', { exact: true }).waitFor({ timeout: 60_000 });
  const deployed = machine.getByTestId('machine-deployed');
  await deployed.getByRole('button', { name: 'Upgrade' }).waitFor({ timeout: 30_000 });
  assert.match(await deployed.innerText(), new RegExp(`deployed from here to ${sshd.target.replace(/[.]/g, '\\.')}`));
  assert.equal(existsSync(path.join(dir, 'data', 'config.json')), true);
  // The README's picture: the machine in the list with its buttons, down to the form's steps (options folded).
  await form.getByText('SSH and install options').click();
  await page.setViewportSize({ width: 1100, height: 1700 });
  await machine.evaluate((e) => e.scrollIntoView({ block: 'start' }));
  await screenshot(page, 'machines-deploy');
  await page.setViewportSize({ width: 1100, height: 1000 });

  // --- Undeploy from the machine's entry: stopped, removed, gone from the list ---
  page.removeAllListeners('dialog');
  page.once('dialog', (d) => void d.accept());
  await deployed.getByRole('button', { name: 'Undeploy' }).click();
  await machine.waitFor({ state: 'detached', timeout: 90_000 });
  assert.equal(existsSync(dir), false);
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.externalRequests, []);
});
