/**
 * Forgeries in Settings → Machines, in Debian's Chromium against the real headless agent and a real Mosquitto: "pi"
 * is a machine whose key the desktop recorded (as deploy records it); it says it is online, signed. A broker user then
 * publishes in pi's name — a status saying it went offline, an event, an empty status that would erase it — and each
 * is refused. The machine's entry keeps a short log of what was refused, when and why, not only the receiver's last
 * error.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { Page } from 'playwright-core';
import { connectAsync } from 'mqtt';
import { rememberAgentKey } from '../../engine/fleet/identity.js';
import { signedJson } from '../../engine/fleet/wire.js';
import { eventsTopic, statusTopic } from '../../engine/forwarding/wire.js';
import type { Mosquitto } from '../helpers/mosquitto.js';
import type { Agent, PageWatch } from './harness.js';
import { fleetUiTest, skip, startFleetPage, type FleetPage } from './fleet-page.js';

let broker: Mosquitto;
let agent: Agent;
let fleet: FleetPage | undefined;
let page: Page;
let watch: PageWatch;
const piKey = generateKeyPairSync('ed25519');

before(async () => {
  if (skip) return;
  fleet = await startFleetPage({
    persistence: false,
    viewport: { width: 1100, height: 900 },
    prepare: (dir) => rememberAgentKey(dir, 'pi', { publicKey: (piKey.publicKey.export({ format: 'jwk' }) as { x: string }).x, pairing: 'pair-pi-refusals' }),
  });
  ({ broker, agent, page, watch } = fleet);
});

after(async () => {
  await fleet?.close();
});

const uiTest = fleetUiTest(() => page);

uiTest("Settings → Machines keeps a short log of what was refused in a machine's name: what, when and why", 180_000, async () => {
  const c = await connectAsync(broker.url, { clientId: 'pi-and-forger' });
  try {
    // pi's own, signed status.
    await c.publishAsync(statusTopic('pi'), signedJson({ state: 'online', agentId: 'pi', hostname: 'raspberrypi', at: new Date().toISOString() }, piKey.privateKey), { qos: 1, retain: true });
    await page.goto(agent.url);
    await page.locator('.conn-open').waitFor({ timeout: 15_000 });
    await page.getByRole('link', { name: 'Settings' }).click();
    const piItem = page.getByRole('list', { name: 'Machines seen' }).locator('[data-agent="pi"]');
    await piItem.getByText('online', { exact: true }).waitFor({ timeout: 30_000 });

    // A broker user, in pi's name.
    await c.publishAsync(statusTopic('pi'), JSON.stringify({ state: 'offline', reason: 'stopped', hostname: 'raspberrypi', at: new Date().toISOString() }), { qos: 1 });
    await c.publishAsync(eventsTopic('pi'), JSON.stringify({ id: '01JFORGEDE2E0000000000001', ts: new Date().toISOString(), source: 'log:x', type: 'log.line', title: 'forged', fields: {}, tags: [] }), { qos: 1 });
    await c.publishAsync(statusTopic('pi'), '', { qos: 1, retain: true });

    const log = piItem.getByTestId('machine-refusals');
    await log.getByText(/3 messages refused/).waitFor({ timeout: 30_000 });
    await log.locator('summary').click();
    const rows = log.locator('li');
    assert.equal(await rows.count(), 3);
    const text = await log.innerText();
    assert.match(text, /status[\s\S]*not signed by pi's key/);
    assert.match(text, /event[\s\S]*not sealed by pi's key/);
    assert.match(text, /empty status[\s\S]*ignored/);
    // Nothing was taken: pi is still online and listed.
    assert.match(await piItem.innerText(), /online/i);
    assert.deepEqual(watch.problems, []);
  } finally {
    await c.endAsync();
  }
});
