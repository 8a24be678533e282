/**
 * Rules and the fleet, in Debian's Chromium against the real headless agent (the desktop) and a real Mosquitto, with
 * two Panoptes engines forwarding to it: "pi" (paired with the desktop's key, as `panoptes deploy` pairs it) and
 * "nas". A rule built in the rule builder for pi's events only ("On machine") fires on an event from pi and not on
 * the same event from nas. The Rules view switched to pi lists, adds, edits, pauses and removes pi's own rules (filter
 * at the source) through the same signed changes as its monitors.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { newId } from '../../core/ids.js';
import { rememberAgentKey } from '../../engine/fleet/identity.js';
import { writeAgentKey } from '../fleet/helpers.js';
import type { Mosquitto } from '../helpers/mosquitto.js';
import { connectProtocol, type ProtocolClient } from '../helpers/protocol-client.js';
import { waitFor } from '../helpers/tmp.js';
import type { Agent, PageWatch } from './harness.js';
import { fleetUiTest, skip, startFleetPage, type FleetPage } from './fleet-page.js';

let broker: Mosquitto;
let desktop: Agent;
let api: ProtocolClient;
let publicKey = '';
const engines: Record<string, Engine> = {};
const dirs: Record<string, string> = {};
let fleet: FleetPage | undefined;
let page: Page;
let watch: PageWatch;

before(async () => {
  if (skip) return;
  let desktopDir = '';
  fleet = await startFleetPage({ persistence: true, viewport: { width: 1280, height: 900 }, pairing: true, prepare: (dir) => (desktopDir = dir) });
  ({ broker, agent: desktop, publicKey, page, watch } = fleet);
  api = await connectProtocol({ port: Number(new URL(desktop.origin).port), token: desktop.token });
  for (const id of ['pi', 'nas']) {
    const dir = mkdtempSync(path.join(os.tmpdir(), `panoptes-e2e-${id}-`));
    dirs[id] = dir;
    const fleet = id === 'pi' ? { fleet: { controller: { publicKey, pairing: 'pair-pi-rules-0001' } } } : {};
    // pi's own key, recorded at the desktop as deploy records it (an agent with none is sent no change).
    if (id === 'pi') rememberAgentKey(desktopDir, 'pi', { publicKey: writeAgentKey(dir), pairing: 'pair-pi-rules-0001' });
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ forwarding: { forward: { url: broker.url, agentId: id } }, ...fleet }));
    engines[id] = await Engine.open({ dataDir: dir, log: silentLogger, agentId: id });
  }
});

after(async () => {
  await fleet?.close(async () => {
    api?.close();
    for (const e of Object.values(engines)) await e.close().catch(() => {});
  });
  for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
});

const uiTest = fleetUiTest(() => page);

/** An event made on one of the machines (forwarded to the desktop through the broker). */
const emitOn = (agentId: string, title: string) => {
  const now = new Date().toISOString();
  return engines[agentId]!.ingest({ id: newId(), ts: now, receivedAt: now, source: 'rss:news', type: 'feed.item', title, body: '', url: null, fields: {}, tags: [] });
};

const storedOnDesktop = (title: string) =>
  waitFor(async () => {
    const r = await api.call<{ events: { title: string; origin?: { agentId: string } }[] }>('events.list', { limit: 50 });
    return r.events.find((e) => e.title === title) ?? null;
  }, `"${title}" stored on the desktop`, 60_000);

const firedTitles = async (ruleId: string) => {
  const r = await api.call<{ traces: { trace: { actions: { notify?: { title: string } }[] } }[] }>('traces.list', { ruleId, limit: 50 });
  return r.traces.flatMap((t) => t.trace.actions.map((a) => a.notify?.title ?? '?')).sort();
};

uiTest('a rule built for one machine ("On machine") fires on its events and not on the same events from another machine', 240_000, async () => {
  await page.goto(desktop.url);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  // Both machines are known to the desktop (their retained status) before the builder offers them.
  await waitFor(async () => {
    const f = await api.call<{ status: { peers: { agentId: string }[] } }>('forwarding.get', {});
    return ['nas', 'pi'].every((id) => f.status.peers.some((p) => p.agentId === id)) || null;
  }, 'pi and nas seen by the desktop', 60_000);

  await page.getByRole('link', { name: 'Rules' }).click();
  await page.getByRole('button', { name: 'New rule' }).click();
  await page.getByLabel('Name', { exact: true }).fill('News from pi');
  const trigger = page.getByRole('region', { name: 'Trigger' });
  const machine = trigger.getByLabel('On machine');
  // The known machines are offered, besides any machine and a pattern.
  const offered = await machine.locator('option').allTextContents();
  assert.ok(offered.includes('pi') && offered.includes('nas') && offered.includes('Any machine'), offered.join(', '));
  await machine.selectOption('pi');
  await page.getByText('The engine accepts this rule.').waitFor();
  await page.getByRole('tab', { name: 'JSON' }).click();
  const json = JSON.parse(await page.getByLabel('Rule JSON').inputValue()) as { when: Record<string, string> };
  assert.equal(json.when.agent, 'pi');
  await page.getByRole('tab', { name: 'Form' }).click();
  // A glob is a pattern of machines; back to one machine after.
  await trigger.getByLabel('…or a machine pattern').fill('pi*');
  await page.getByText('The engine accepts this rule.').waitFor();
  assert.equal(await machine.inputValue(), 'pi*');
  await trigger.getByLabel('…or a machine pattern').fill('pi');
  await page.getByRole('button', { name: 'Save rule' }).click();
  const card = page.getByRole('listitem', { name: 'Rule News from pi' });
  await card.waitFor();
  // The rule's summary says which machine.
  await card.getByText(/on machine pi\b/).waitFor();

  // nas first: stored before pi's event, so processed before it (rules run in store order).
  await emitOn('nas', 'Kernel 6.12 (nas)');
  await storedOnDesktop('Kernel 6.12 (nas)');
  await emitOn('pi', 'Kernel 6.12 (pi)');
  const fromPi = await storedOnDesktop('Kernel 6.12 (pi)');
  assert.equal(fromPi.origin?.agentId, 'pi');
  await waitFor(async () => ((await firedTitles('news-from-pi')).length ? true : null), 'the rule fired on pi\'s event', 60_000);
  assert.deepEqual(await firedTitles('news-from-pi'), ['Kernel 6.12 (pi)']);
  assert.deepEqual(watch.problems, []);
});

const piRules = () => ((JSON.parse(readFileSync(path.join(dirs.pi!, 'config.json'), 'utf8')) as { rules?: { id: string; name?: string; enabled?: boolean; when?: unknown }[] }).rules ?? []);

uiTest("Rules switched to another machine: its local rules are listed, added, edited, paused and removed there by signed changes", 240_000, async () => {
  await page.getByRole('link', { name: 'Rules' }).click();
  const machine = page.getByLabel('Machine');
  await machine.waitFor({ timeout: 60_000 }).catch(async () => {
    await page.reload();
    await page.getByLabel('Machine').waitFor({ timeout: 30_000 });
  });
  // Only machines deployed from here (paired) can be changed: nas is not offered.
  assert.deepEqual(await machine.locator('option').allTextContents(), ['This machine', 'pi']);
  await machine.selectOption('pi');
  const remote = page.getByRole('region', { name: 'Rules on pi' });
  await remote.getByText('No rules on pi yet.').waitFor({ timeout: 30_000 });

  // Add: the builder, sent to pi (filtering at the source: only pi's own errors go further).
  await remote.getByRole('button', { name: 'New rule on pi' }).click();
  await page.getByRole('heading', { name: 'New rule on pi' }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill('Only errors');
  await page.getByRole('region', { name: 'Trigger' }).getByLabel('…or a type pattern').fill('log.*');
  await page.getByText('The engine accepts this rule.').waitFor();
  await page.getByRole('button', { name: 'Send to pi' }).click();
  await remote.getByTestId('fleet-change-state').getByText(/Change 1 applied on pi/).waitFor({ timeout: 30_000 });
  const card = remote.getByRole('listitem', { name: 'Rule Only errors' });
  await card.waitFor();
  await card.getByText(/when log\.\* from any source/).waitFor();
  await waitFor(() => piRules().some((r) => r.id === 'only-errors') || null, 'the rule in pi\'s config.json');

  // Edit: renamed in the builder.
  await card.getByRole('button', { name: 'Edit' }).click();
  await page.getByRole('heading', { name: 'Edit rule only-errors on pi' }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill('Only the errors');
  await page.getByRole('button', { name: 'Send to pi' }).click();
  await remote.getByTestId('fleet-change-state').getByText(/Change 2 applied on pi/).waitFor({ timeout: 30_000 });
  await waitFor(() => piRules().find((r) => r.id === 'only-errors')?.name === 'Only the errors' || null, 'the rename on pi');

  // Pause (the enabled switch), then remove.
  const renamed = remote.getByRole('listitem', { name: 'Rule Only the errors' });
  // A click sends the change; the switch follows the configuration the desktop then knows (not at once).
  await renamed.getByLabel('Enabled: Only the errors').click();
  await remote.getByTestId('fleet-change-state').getByText(/Change 3 applied on pi/).waitFor({ timeout: 30_000 });
  assert.equal(piRules().find((r) => r.id === 'only-errors')?.enabled, false);
  // The page's watch dismisses every dialog: this confirm is answered yes in the page instead.
  await page.evaluate('window.confirm = () => true');
  await renamed.getByRole('button', { name: 'Delete' }).click();
  await remote.getByTestId('fleet-change-state').getByText(/Change 4 applied on pi/).waitFor({ timeout: 30_000 });
  await remote.getByText('No rules on pi yet.').waitFor();
  assert.deepEqual(piRules(), []);

  // Back to this machine: its own rules (the one built above).
  await machine.selectOption({ label: 'This machine' });
  await page.getByRole('listitem', { name: 'Rule News from pi' }).waitFor();
  assert.deepEqual(watch.problems, []);
});
