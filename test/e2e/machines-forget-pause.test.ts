/**
 * Settings → Machines acting on a machine, in Debian's Chromium against the real headless agent (the desktop) and a
 * real Mosquitto: "pi" is a Panoptes engine paired with the desktop (its key recorded, as `panoptes deploy` records
 * it). Its entry pauses and resumes all its monitors there (pi applies it, and its status says so); a machine gone
 * for good is forgotten — offered only once it is offline, after a confirmation — and then nothing of it is kept: not
 * its entry (also after a reload), its key, nor its retained status and configuration on the broker.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { connectAsync } from 'mqtt';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { FLEET_AGENTS_FILE } from '../../engine/fleet/identity.js';
import type { Mosquitto } from '../helpers/mosquitto.js';
import type { Agent, PageWatch } from './harness.js';
import { fleetPageForFile } from './fleet-page.js';

let broker: Mosquitto;
let agent: Agent;
let pi: Engine | null = null;
let piDir = '';
let page: Page;
let watch: PageWatch;

const uiTest = fleetPageForFile(
  {
    persistence: true,
    viewport: { width: 1100, height: 900 },
    pi: { pairing: 'pair-pi-e2e-0002', monitors: (dir) => [{ id: 'log:app', type: 'log', name: 'App log', config: { path: path.join(dir, 'app.log') } }] },
  },
  (fleet) => {
    ({ broker, agent, piDir, page, watch } = fleet);
    writeFileSync(path.join(piDir, 'app.log'), '');
  },
  async () => {
    await pi?.close().catch(() => {});
  },
);

/** The retained messages the broker keeps under pi's topics (status, configuration set and state). */
async function retainedOfPi(): Promise<string[]> {
  const c = await connectAsync(broker.url);
  try {
    const got = new Set<string>();
    c.on('message', (topic, payload) => {
      if (payload.length) got.add(topic);
    });
    await c.subscribeAsync('panoptes/pi/#', { qos: 1 });
    // Retained messages arrive right after SUBACK; a publish round trip and a moment let them all in.
    await c.publishAsync('panoptes-test/barrier', 'x', { qos: 1 });
    await new Promise((r) => setTimeout(r, 500));
    return [...got].sort();
  } finally {
    await c.endAsync();
  }
}

uiTest('Settings → Machines: pause and resume all monitors on a machine; forget one gone for good (offline only, confirmed)', 240_000, async () => {
  pi = await Engine.open({ dataDir: piDir, log: silentLogger, agentId: 'pi' });
  await page.goto(agent.url);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await page.getByRole('link', { name: 'Settings' }).click();
  const item = page.getByRole('list', { name: 'Machines seen' }).locator('[data-agent="pi"]');
  await item.getByText('online', { exact: true }).waitFor({ timeout: 60_000 });

  // --- Pause all, then Resume: applied on pi, and its entry says so ---
  const pauseButton = item.getByRole('button', { name: 'Pause all monitors on pi' });
  await pauseButton.waitFor({ timeout: 60_000 });
  await pauseButton.click();
  await item.getByTestId('machine-paused').waitFor({ timeout: 30_000 });
  await item.getByRole('button', { name: 'Resume all monitors on pi' }).waitFor();
  assert.equal(pi.paused, true, 'pi paused all its monitors');
  await item.getByRole('button', { name: 'Resume all monitors on pi' }).click();
  await item.getByRole('button', { name: 'Pause all monitors on pi' }).waitFor({ timeout: 30_000 });
  await item.getByTestId('machine-paused').waitFor({ state: 'detached', timeout: 30_000 });
  assert.equal(pi.paused, false, 'pi resumed');

  // --- Forget: not offered while it is online ---
  assert.equal(await item.getByRole('button', { name: 'Forget' }).count(), 0);
  await pi.close();
  pi = null;
  await item.getByText('offline', { exact: true }).waitFor({ timeout: 30_000 });
  const forget = item.getByRole('button', { name: 'Forget' });
  await forget.waitFor({ timeout: 10_000 });
  assert.ok((await retainedOfPi()).includes('panoptes/pi/status'), 'its status is retained on the broker before');

  // Cancelled (the page's watch dismisses every dialog): nothing happens.
  await forget.click();
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(watch.dialogs.length, 1);
  assert.match(watch.dialogs[0]!, /^confirm: Forget pi\? .*key and pairing/);
  assert.equal(await item.count(), 1);

  // Confirmed: gone from the list, its key, and the broker.
  page.removeAllListeners('dialog');
  page.once('dialog', (d) => void d.accept());
  await forget.click();
  await item.waitFor({ state: 'detached', timeout: 30_000 });
  const keys = JSON.parse(readFileSync(path.join(agent.dataDir, FLEET_AGENTS_FILE), 'utf8')) as Record<string, unknown>;
  assert.equal('pi' in keys, false, 'its key is forgotten');
  assert.deepEqual(await retainedOfPi(), [], 'nothing of pi is retained on the broker');
  // After a reload it stays gone (nothing kept brings it back).
  await page.reload();
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByText(/No other machine yet|Machines seen/).first().waitFor({ timeout: 15_000 });
  assert.equal(await page.locator('[data-agent="pi"]').count(), 0);
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.externalRequests, []);
});
