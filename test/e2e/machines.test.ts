/**
 * Settings → Machines as the fleet's inventory, in Debian's Chromium against the real headless agent and a real
 * Mosquitto: two other machines (Panoptes engines "pi" and "nas") forward to the broker this agent receives from;
 * each one's retained status carries its version, OS, uptime, monitors with their health, queue and last event,
 * and the list shows them — a failing monitor opened up. A machine that stops shows offline with what it last told;
 * an undeployed one (its retained status cleared) leaves the list. The screenshot is the README's.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { connectAsync } from 'mqtt';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import type { Mosquitto } from '../helpers/mosquitto.js';
import { closedPort } from '../helpers/ports.js';
import { screenshot, type Agent, type PageWatch } from './harness.js';
import { fleetUiTest, skip, startFleetPage, type FleetPage } from './fleet-page.js';

let broker: Mosquitto;
let agent: Agent;
const machines: Engine[] = [];
const dirs: string[] = [];
let fleet: FleetPage | undefined;
let page: Page;
let watch: PageWatch;

before(async () => {
  if (skip) return;
  fleet = await startFleetPage({ persistence: false, viewport: { width: 1100, height: 900 }, forwardAs: 'desktop' });
  ({ broker, agent, page, watch } = fleet);
});

after(async () => {
  await fleet?.close(async () => {
    for (const m of machines) await m.close().catch(() => {});
  });
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const uiTest = fleetUiTest(() => page);

async function machine(agentId: string, monitors: unknown[]): Promise<Engine> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `panoptes-e2e-${agentId}-`));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ monitors, forwarding: { forward: { url: broker.url, agentId } } }));
  const e = await Engine.open({ dataDir: dir, log: silentLogger, agentId });
  machines.push(e);
  return e;
}

uiTest('Settings → Machines lists every machine with its version, OS, monitors and health, queue and last event', 180_000, async () => {
  const logFile = path.join(os.tmpdir(), `panoptes-e2e-syslog-${process.pid}`);
  writeFileSync(logFile, '');
  dirs.push(logFile);
  const pi = await machine('pi', [
    { id: 'log:syslog', type: 'log', name: 'System log', config: { path: logFile } },
    { id: 'tcp:printer', type: 'tcp', name: 'Printer', config: { host: '127.0.0.1', port: await closedPort(), retries: 1 } },
  ]);
  const nas = await machine('nas', [{ id: 'log:backup', type: 'log', name: 'Backup log', config: { path: logFile } }]);
  await page.goto(agent.url);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await page.getByRole('link', { name: 'Settings' }).click();
  const list = page.getByRole('list', { name: 'Machines seen' });
  const piItem = list.locator('[data-agent="pi"]');
  await piItem.getByText('online', { exact: true }).waitFor({ timeout: 30_000 });
  await list.locator('[data-agent="nas"]').getByText('online', { exact: true }).waitFor({ timeout: 30_000 });
  // The printer check's first attempt finds it down (its monitor degraded); the status is published again.
  await piItem.getByText(/2 monitors, 1 degraded/).waitFor({ timeout: 60_000 });
  // A new event there shows as its last event.
  await pi.emit('test:gen', { type: 'test.tick', title: 'Backup of /home finished' });
  await piItem.getByTestId('machine-activity').getByText(/Backup of \/home finished/).waitFor({ timeout: 30_000 });
  const facts = await piItem.getByTestId('machine-facts').innerText();
  assert.match(facts, /Panoptes \d+\.\d+\.\d+/);
  assert.match(facts, /Linux/);
  assert.match(facts, /agent up \d+/);
  assert.match(await piItem.getByTestId('machine-activity').innerText(), /nothing waiting to forward · last event just now: “Backup of \/home finished”/);
  const printer = piItem.locator('[data-monitor="tcp:printer"]');
  assert.match(await printer.innerText(), /degraded\s+Printer \(tcp\) — down: .*refused/i);
  assert.match(await piItem.locator('[data-monitor="log:syslog"]').innerText(), /System log \(log\)/);
  // pi forwards here by hand (`--forward`), never deployed from here: said for what it is — not paired — with how to
  // pair it, and not as something broken ("unverified") or an Upgrade that has nothing to upgrade.
  assert.equal((await piItem.getByTestId('machine-unverified').textContent())?.trim(), 'not paired');
  const help = piItem.getByTestId('machine-unverified-help');
  assert.match(await help.innerText(), /pi forwards here without having been deployed from this desktop/);
  // How to pair it is one click away, not a paragraph repeated under every such machine.
  assert.doesNotMatch(await help.innerText(), /--agent-id pi/);
  await help.getByText('How to pair it').click();
  const pairing = await help.innerText();
  assert.match(pairing, /panoptes deploy USER@HOST --broker URL --agent-id pi/);
  assert.doesNotMatch(pairing, /Upgrade it from here/);
  await help.getByText('How to pair it').click();
  await list.scrollIntoViewIfNeeded();
  await screenshot(page, 'settings-machines-inventory');

  // nas stops: offline, still listed with what it runs; then its retained status is cleared (undeploy): gone.
  await nas.close();
  machines.splice(machines.indexOf(nas), 1);
  const nasItem = list.locator('[data-agent="nas"]');
  await nasItem.getByText('offline', { exact: true }).waitFor({ timeout: 30_000 });
  assert.match(await nasItem.innerText(), /Panoptes \d+\.\d+\.\d+/);
  assert.doesNotMatch(await nasItem.innerText(), /agent up/);
  const c = await connectAsync(broker.url);
  await c.publishAsync('panoptes/nas/status', '', { qos: 1, retain: true });
  await c.endAsync();
  await nasItem.waitFor({ state: 'detached', timeout: 30_000 });
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.externalRequests, []);
});
