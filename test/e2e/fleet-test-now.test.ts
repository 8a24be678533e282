/**
 * "Test now" on another machine's monitor, in Debian's Chromium against the real headless agent (the desktop) and a
 * real Mosquitto: "pi" is a Panoptes engine paired with the desktop the way `panoptes deploy` pairs it (the desktop's
 * key in its config, its own key recorded at the desktop). In Monitors switched to pi, the edit form's Test now runs
 * on pi and shows what its file holds; "Ask pi" reads its monitors' health and recent events; with pi stopped, Test
 * now says it is offline instead of running anything here. The screenshot is the README's.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { loadOrCreateIdentity, rememberAgentKey } from '../../engine/fleet/identity.js';
import { mosquittoAvailable, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { launchChromium, screenshot, startAgent, watchPage, type Agent, type PageWatch, uiTest as harnessUiTest } from './harness.js';

const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';

let broker: Mosquitto;
let agent: Agent;
let pi: Engine | null = null;
const piDir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-e2e-pi-'));
const appLog = path.join(piDir, 'app.log');
let browser: Browser;
let page: Page;
let watch: PageWatch;

before(async () => {
  if (skip) return;
  broker = await startMosquitto({ persistence: false });
  const pairing = 'pair-pi-e2e-test-now';
  const piKey = generateKeyPairSync('ed25519');
  writeFileSync(path.join(piDir, 'agent-key'), piKey.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  let publicKey = '';
  agent = await startAgent((dir) => {
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ forwarding: { subscribe: [{ url: broker.url }] } }));
    publicKey = loadOrCreateIdentity(dir).publicKey;
    rememberAgentKey(dir, 'pi', { publicKey: (piKey.publicKey.export({ format: 'jwk' }) as { x: string }).x, pairing });
  });
  writeFileSync(appLog, 'backup started\nbackup finished: 3 files\n');
  writeFileSync(
    path.join(piDir, 'config.json'),
    JSON.stringify({
      forwarding: { forward: { url: broker.url, agentId: 'pi' } },
      fleet: { controller: { publicKey, pairing } },
      monitors: [{ id: 'log:backup', type: 'log', name: 'Backup log', enabled: true, config: { path: appLog, fromBeginning: true } }],
    }),
  );
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1100, height: 1000 }, colorScheme: 'light' });
  page = await context.newPage();
  watch = watchPage(page);
});

after(async () => {
  await browser?.close();
  await pi?.close().catch(() => {});
  await agent?.stop();
  await broker?.close();
  rmSync(piDir, { recursive: true, force: true });
});

const uiTest = (name: string, timeout: number, fn: () => Promise<void>) => harnessUiTest(() => page, name, { timeout, skip }, fn);

uiTest('Monitors switched to another machine: Test now runs there and shows what it found; its health and recent events are asked of it; offline is said', 240_000, async () => {
  pi = await Engine.open({ dataDir: piDir, log: silentLogger, agentId: 'pi' });
  await page.goto(agent.url);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await page.getByRole('link', { name: 'Monitors' }).click();
  const machine = page.getByLabel('Machine');
  await machine.waitFor({ timeout: 60_000 }).catch(async () => {
    await page.reload();
    await page.getByLabel('Machine').waitFor({ timeout: 30_000 });
  });
  await machine.selectOption('pi');
  const remote = page.getByRole('region', { name: 'Monitors on pi' });
  const card = remote.getByRole('listitem', { name: 'Monitor Backup log' });
  await card.waitFor({ timeout: 30_000 });
  assert.equal(await remote.getByTestId('fleet-unverified').count(), 0, "pi's state verified with the key recorded for it");

  // Health and recent events, asked of pi itself.
  await card.locator('.status-ok').waitFor({ timeout: 30_000 });
  appendFileSync(appLog, 'disk almost full on /backup\n');
  const asked = remote.getByRole('region', { name: 'Asked of pi' });
  await asked.getByRole('button', { name: 'Ask pi' }).click();
  await asked.getByText(/^pi answered .*: 1 monitor, \d+ recent events?/).waitFor({ timeout: 30_000 });
  for (let i = 0; i < 20 && !(await asked.getByText('disk almost full on /backup').count()); i++) {
    await asked.getByRole('button', { name: 'Ask again' }).click();
    await asked.getByRole('button', { name: 'Ask again' }).waitFor({ timeout: 30_000 });
  }
  await asked.getByRole('list', { name: 'Recent events on pi' }).getByText('disk almost full on /backup').waitFor();

  // Test now in the edit form: run on pi, the result shown here.
  await card.getByRole('button', { name: 'Edit' }).click();
  await page.getByRole('heading', { name: /on pi$/ }).waitFor();
  await page.getByRole('button', { name: 'Test now' }).click();
  const result = page.getByRole('region', { name: 'Test result' });
  await result.getByRole('heading', { name: /^Test on pi: 3 events right now$/ }).waitFor({ timeout: 60_000 });
  await result.getByText('backup finished: 3 files').waitFor();
  await result.getByText(/run on pi\. Nothing was stored\./).waitFor();
  await result.evaluate((el) => el.scrollIntoView({ block: 'end' }));
  await screenshot(page, 'monitors-remote-test');

  // pi stopped: said, nothing run here.
  await pi.close();
  pi = null;
  await page.waitForFunction(() => true);
  for (let i = 0; i < 60; i++) {
    await page.getByRole('button', { name: 'Test now' }).click();
    const said = page.locator('.error-box', { hasText: /pi is offline|pi did not answer/ });
    await said.first().waitFor({ timeout: 45_000 });
    if (await page.locator('.error-box', { hasText: /pi is offline \(last heard from at .*: stopped\); "Test now" runs on that machine/ }).count()) break;
  }
  await page.locator('.error-box', { hasText: /pi is offline/ }).waitFor();
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.externalRequests, []);
});
