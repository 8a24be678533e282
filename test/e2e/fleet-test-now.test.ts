/**
 * "Test now" on another machine's monitor, in Debian's Chromium against the real headless agent (the desktop) and a
 * real Mosquitto: "pi" is a Panoptes engine paired with the desktop the way `panoptes deploy` pairs it (the desktop's
 * key in its config, its own key recorded at the desktop). In Monitors switched to pi, the edit form's Test now runs
 * on pi and shows what its file holds; "Ask pi" reads its monitors' health and recent events; with pi stopped, Test
 * now says it is offline instead of running anything here. The screenshot is the README's. Then the list's own
 * buttons: Check now on a row runs that monitor's check on pi, and "Pause all monitors on pi" pauses pi (Settings →
 * Machines says so), applied on its return when pi was away, and Resume brings its monitors back.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { screenshot, type Agent, type PageWatch } from './harness.js';
import { fleetPageForFile } from './fleet-page.js';

let agent: Agent;
let pi: Engine | null = null;
let piDir = '';
let appLog = '';
let page: Page;
let watch: PageWatch;

const uiTest = fleetPageForFile(
  {
    persistence: false,
    viewport: { width: 1100, height: 1000 },
    pi: {
      pairing: 'pair-pi-e2e-test-now',
      monitors: (dir) => [{ id: 'log:backup', type: 'log', name: 'Backup log', enabled: true, config: { path: path.join(dir, 'app.log'), fromBeginning: true } }],
    },
  },
  (fleet) => {
    ({ agent, piDir, page, watch } = fleet);
    appLog = path.join(piDir, 'app.log');
    writeFileSync(appLog, 'backup started\nbackup finished: 3 files\n');
  },
  async () => {
    await pi?.close().catch(() => {});
  },
);

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

uiTest('Monitors switched to another machine: Check now on a row runs there; Pause all monitors on pi pauses it (also while away, applied on return), Machines says so; Resume', 240_000, async () => {
  await pi?.close();
  // A monitor with a scheduled check (hourly: only Check now makes a second sample within the test).
  const doc = JSON.parse(readFileSync(path.join(piDir, 'config.json'), 'utf8')) as { monitors: Record<string, unknown>[] };
  if (!doc.monitors.some((m) => m.id === 'system:load')) doc.monitors.push({ id: 'system:load', type: 'system', name: 'Machine load', enabled: true, config: { interval: '1h' } });
  writeFileSync(path.join(piDir, 'config.json'), JSON.stringify(doc));
  pi = await Engine.open({ dataDir: piDir, log: silentLogger, agentId: 'pi' });
  await page.goto(agent.url);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await page.getByRole('link', { name: 'Monitors' }).click();
  const machine = page.getByLabel('Machine');
  await machine.waitFor({ timeout: 60_000 });
  await machine.selectOption('pi');
  const remote = page.getByRole('region', { name: 'Monitors on pi' });
  const load = remote.getByRole('listitem', { name: 'Monitor Machine load' });
  await load.locator('.status-ok').waitFor({ timeout: 60_000 });
  const toasts = page.getByRole('region', { name: 'Notifications' });

  // Check now on the row: pi samples again at once (its own events, asked of it, show a second sample).
  const samples = async () => {
    const asked = remote.getByRole('region', { name: 'Asked of pi' });
    await asked.getByRole('button', { name: /^Ask (pi|again)$/ }).click();
    await asked.getByText(/^pi answered /).waitFor({ timeout: 30_000 });
    await asked.getByRole('button', { name: 'Ask again' }).waitFor({ timeout: 30_000 });
    return asked.getByRole('list', { name: 'Recent events on pi' }).getByText(/^CPU \S+%, memory/).count();
  };
  const before = await samples();
  assert.ok(before >= 1, 'the first sample, taken when the monitor started');
  await load.getByRole('button', { name: 'Check now' }).click();
  await toasts.getByText('Checking “Machine load” on pi now').waitFor({ timeout: 30_000 });
  for (let i = 0; i < 30 && (await samples()) <= before; i++) await page.waitForTimeout(500);
  assert.ok((await samples()) > before, 'Check now took a sample on pi');

  // Pause all monitors on pi: applied there, said here and in Settings → Machines.
  await remote.getByRole('button', { name: 'Pause all monitors on pi' }).click();
  await remote.getByTestId('fleet-paused').getByText(/All monitors on pi (are paused|will be paused)/).waitFor({ timeout: 30_000 });
  await remote.getByTestId('fleet-change-state').getByText(/Change \d+ applied on pi/).waitFor({ timeout: 30_000 });
  await remote.getByTestId('fleet-paused').getByText('All monitors on pi are paused').waitFor();
  await load.locator('.status-paused').waitFor({ timeout: 30_000 });
  assert.equal(await load.getByRole('button', { name: 'Check now' }).isDisabled(), true);
  await page.getByRole('link', { name: 'Settings' }).click();
  const piMachine = page.getByRole('list', { name: 'Machines seen' }).getByRole('listitem', { name: 'Machine pi' });
  await piMachine.locator('.status-paused', { hasText: 'paused' }).first().waitFor({ timeout: 30_000 });

  // Resume, then pause while pi is away: the change waits on the broker and pi applies it when it is back.
  await page.getByRole('link', { name: 'Monitors' }).click();
  await machine.selectOption('pi');
  await remote.getByRole('button', { name: 'Resume all monitors on pi' }).click();
  await load.locator('.status-ok').waitFor({ timeout: 30_000 });
  assert.equal(await remote.getByTestId('fleet-paused').count(), 0);
  await pi.close();
  pi = null;
  await remote.getByRole('button', { name: 'Pause all monitors on pi' }).click();
  await remote.getByTestId('fleet-paused').getByText(/All monitors on pi will be paused once it applies change \d+/).waitFor({ timeout: 30_000 });
  pi = await Engine.open({ dataDir: piDir, log: silentLogger, agentId: 'pi' });
  await remote.getByTestId('fleet-paused').getByText('All monitors on pi are paused').waitFor({ timeout: 60_000 });
  await load.locator('.status-paused').waitFor({ timeout: 30_000 });
  assert.equal(pi.paused, true, 'pi itself is paused');
  await remote.getByRole('button', { name: 'Resume all monitors on pi' }).click();
  await load.locator('.status-ok').waitFor({ timeout: 30_000 });
  assert.equal(pi.paused, false);
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.externalRequests, []);
});
