/**
 * The Monitors view switched to another machine, in Debian's Chromium against the real headless agent (the desktop)
 * and a real Mosquitto: "pi" is a Panoptes engine paired with the desktop's key (as `panoptes deploy` pairs it). A
 * monitor added there from the form is sent as a signed change and applied; one added while pi is away waits on the
 * broker, the page says so, and pi applies it when it is back. The screenshot is the README's.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { screenshot, type Agent, type PageWatch } from './harness.js';
import { fleetPageForFile } from './fleet-page.js';

let agent: Agent;
let pi: Engine | null = null;
let piDir = '';
let page: Page;
let watch: PageWatch;

const uiTest = fleetPageForFile(
  { persistence: true, viewport: { width: 1100, height: 900 }, pi: { pairing: 'pair-pi-e2e-0001' } },
  (fleet) => ({ agent, piDir, page, watch } = fleet),
  async () => {
    await pi?.close().catch(() => {});
  },
);
const LOG_TITLE = 'Log file';
const piMonitors = () => ((JSON.parse(readFileSync(path.join(piDir, 'config.json'), 'utf8')) as { monitors?: { name: string }[] }).monitors ?? []).map((m) => m.name).sort();

uiTest('Monitors switched to another machine: a monitor added there is applied; one added while it is away waits and is applied on its return', 240_000, async () => {
  const logFile = path.join(piDir, 'app.log');
  writeFileSync(logFile, '');
  pi = await Engine.open({ dataDir: piDir, log: silentLogger, agentId: 'pi' });
  await page.goto(agent.url);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await page.getByRole('link', { name: 'Monitors' }).click();
  const machine = page.getByLabel('Machine');
  // The switcher appears once pi's configuration has reached the desktop.
  await machine.waitFor({ timeout: 60_000 }).catch(async () => {
    await page.reload();
    await page.getByLabel('Machine').waitFor({ timeout: 30_000 });
  });
  await machine.selectOption('pi');
  const remote = page.getByRole('region', { name: 'Monitors on pi' });
  await remote.getByText('No monitors on pi yet.').waitFor({ timeout: 30_000 });

  const add = async (name: string) => {
    await remote.getByRole('button', { name: 'Add monitor on pi' }).click();
    await page.locator('.type-card', { hasText: LOG_TITLE }).first().click();
    await page.getByRole('heading', { name: /on pi$/ }).waitFor();
    await page.locator('#monitor-name').fill(name);
    await page.getByLabel('Log file').fill(logFile);
    await page.getByRole('button', { name: 'Send to pi' }).click();
  };

  // Online: applied, and the page says so.
  await add('App log');
  await remote.getByTestId('fleet-change-state').getByText(/Change 1 applied on pi/).waitFor({ timeout: 30_000 });
  await remote.getByRole('listitem', { name: 'Monitor App log' }).waitFor();
  assert.deepEqual(piMonitors(), ['App log']);
  // Its health comes back in pi's next status (published within a second or so of the monitor starting).
  await remote.getByRole('listitem', { name: 'Monitor App log' }).locator('.status-ok').waitFor({ timeout: 30_000 });
  await screenshot(page, 'monitors-remote');

  // Away: the change waits on the broker, and pi applies it when it is back.
  await pi.close();
  pi = null;
  await add('Backup log');
  await remote.getByTestId('fleet-change-state').getByText(/pi is offline: change 2 waits on the broker|Change 2 sent to pi, waiting/).waitFor({ timeout: 30_000 });
  await remote.getByRole('listitem', { name: 'Monitor Backup log' }).waitFor();
  assert.deepEqual(piMonitors(), ['App log']);
  pi = await Engine.open({ dataDir: piDir, log: silentLogger, agentId: 'pi' });
  await remote.getByTestId('fleet-change-state').getByText(/Change 2 applied on pi/).waitFor({ timeout: 60_000 });
  assert.deepEqual(piMonitors(), ['App log', 'Backup log']);

  // Back to this machine: its own (empty) list.
  await machine.selectOption({ label: 'This machine' });
  await page.getByRole('button', { name: 'Add monitor', exact: true }).waitFor();
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.externalRequests, []);
});
