/**
 * Setting up several machines by clicking, in Debian's Chromium against the real headless agent and a real
 * Mosquitto that wants a password: the Settings view's "Machines" section forwards this agent's events and takes
 * in another machine's (a second Panoptes engine, "pi"); the status turns connected, the other machine shows
 * online, its events reach the feed, a bad filter is refused next to the field, and the password typed in the
 * form never lands in config.json. Then a broker that speaks only TLS with client certificates (a private CA made
 * for the run): its files typed into the form, a wrong path refused next to its field, the connection made.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { mosquittoAvailable, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { makeMqttPki, type MqttPki } from '../helpers/mqtt-pki.js';
import { launchChromium, screenshot, SCREENSHOTS, startAgent, watchPage, type Agent, type PageWatch, uiTest as harnessUiTest } from './harness.js';

const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';
const skipTls = skip || (existsSync('/usr/bin/openssl') ? false : 'skipped: no /usr/bin/openssl');
const PASSWORD = 'typed-in-the-form-7';

let broker: Mosquitto;
let tlsBroker: Mosquitto | null = null;
let pki: MqttPki | null = null;
let pkiDir: string;
let pwDir: string;
let agent: Agent;
let pi: Engine | null = null;
let piDir: string;
let browser: Browser;
let page: Page;
let watch: PageWatch;

before(async () => {
  if (skip) return;
  pwDir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-e2e-mqpw-'));
  const file = path.join(pwDir, 'passwd');
  execFileSync('/usr/bin/mosquitto_passwd', ['-b', '-c', file, 'fwd', PASSWORD]);
  if (process.getuid?.() === 0) for (const p of [pwDir, file]) chownSync(p, 65534, 65534);
  broker = await startMosquitto({ extraConfig: ['allow_anonymous false', `password_file ${file}`] });
  if (!skipTls) {
    pkiDir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-e2e-pki-'));
    pki = makeMqttPki(pkiDir);
    tlsBroker = await startMosquitto({ extraConfig: [`cafile ${pki.ca}`, `certfile ${pki.serverCert}`, `keyfile ${pki.serverKey}`, 'require_certificate true'] });
  }
  agent = await startAgent();
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, colorScheme: 'light' });
  page = await context.newPage();
  watch = watchPage(page);
});

after(async () => {
  await browser?.close();
  await pi?.close();
  await agent?.stop();
  await broker?.close();
  await tlsBroker?.close();
  if (pkiDir) rmSync(pkiDir, { recursive: true, force: true });
  if (pwDir) rmSync(pwDir, { recursive: true, force: true });
  if (piDir) rmSync(piDir, { recursive: true, force: true });
});

/** A failed step leaves a screenshot of what the page showed, next to the others. */
const uiTest = (name: string, timeout: number, fn: () => Promise<void>, skipIt: string | false = skip) => harnessUiTest(() => page, name, { timeout, skip: skipIt }, fn);

uiTest('forwarding set up by clicking in Settings → Machines turns connected, and the other machine shows online', 120_000, async () => {
  await page.goto(agent.url);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await page.getByRole('link', { name: 'Settings' }).click();
  const machines = page.getByRole('form', { name: 'Machines' });
  await machines.waitFor();
  await machines.getByText('No other machine yet').waitFor();
  assert.match(await machines.getByTestId('forward-status').innerText(), /off/);

  await machines.getByLabel('Forward events to a broker').check();
  await machines.getByLabel('Broker address', { exact: true }).fill(`mqtt://fwd@127.0.0.1:${broker.port}`);
  await machines.getByLabel('Broker password', { exact: true }).fill(PASSWORD);
  await machines.getByLabel('Agent id').fill('e2e-desktop');
  // A filter the rules engine refuses (a backreference, which the linear-time engine cannot run) is shown next to the field.
  await machines.getByLabel(/Only forward events matching/).fill('{ "if": { "field": "title", "matches": "(a)\\\\1" } }');
  await machines.getByRole('button', { name: 'Add broker' }).click();
  await machines.getByLabel('Broker 1 address').fill(`mqtt://fwd@127.0.0.1:${broker.port}`);
  await machines.getByLabel('Broker 1 password').fill(PASSWORD);
  await machines.getByRole('button', { name: 'Save machines settings' }).click();
  const filterIssue = machines.locator('[data-path="$.forward.filter"]');
  await filterIssue.waitFor();
  assert.match(await filterIssue.innerText(), /if\.matches/);
  assert.match(await machines.getByTestId('forward-status').innerText(), /off/, 'nothing saved');

  // Fixed: a filter that keeps only test events, then saved.
  await machines.getByLabel(/Only forward events matching/).fill('{ "when": { "type": "test.*" } }');
  await machines.getByRole('button', { name: 'Save machines settings' }).click();
  await page.getByText('Machines settings saved').waitFor();
  await machines.getByTestId('forward-status').getByText('connected', { exact: true }).waitFor({ timeout: 20_000 });
  assert.match(await machines.getByTestId('forward-status').innerText(), /e2e-desktop[\s\S]*0 queued/);
  // The password went to the secret store: the form shows one is stored, config.json never had it.
  assert.equal(await machines.getByLabel('Broker password', { exact: true }).inputValue(), '');
  assert.match((await machines.getByLabel('Broker password', { exact: true }).getAttribute('placeholder')) ?? '', /stored/);
  const config = readFileSync(path.join(agent.dataDir, 'config.json'), 'utf8');
  assert.doesNotMatch(config, new RegExp(PASSWORD));
  assert.match(config, /mqtt:\/\/fwd@127\.0\.0\.1/);

  // Another machine forwards to the same broker: it shows online here, and its event reaches this feed.
  piDir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-e2e-pi-'));
  writeFileSync(path.join(piDir, 'config.json'), JSON.stringify({ forwarding: { forward: { url: `mqtt://fwd:${PASSWORD}@127.0.0.1:${broker.port}`, agentId: 'pi' } } }));
  pi = await Engine.open({ dataDir: piDir, log: silentLogger, startMonitors: false, agentId: 'pi' });
  const peer = machines.getByRole('list', { name: 'Machines seen' }).locator('[data-agent="pi"]');
  await peer.getByText('online').waitFor({ timeout: 20_000 });
  assert.match(await peer.innerText(), /last seen just now/);
  await pi.emit('test:gen', { type: 'test.tick', title: 'Hello from the Raspberry Pi' });
  await machines.getByRole('region', { name: 'Forwarding status' }).scrollIntoViewIfNeeded();
  mkdirSync(SCREENSHOTS, { recursive: true });
  await machines.screenshot({ path: path.join(SCREENSHOTS, 'settings-machines.png') });
  await page.getByRole('link', { name: 'Feed' }).click();
  await page.getByText('Hello from the Raspberry Pi').waitFor({ timeout: 20_000 });

  // The other machine stops: it shows offline.
  await pi.close();
  pi = null;
  await page.getByRole('link', { name: 'Settings' }).click();
  await machines.getByRole('list', { name: 'Machines seen' }).locator('[data-agent="pi"]').getByText('offline').waitFor({ timeout: 20_000 });
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.externalRequests, []);
});

uiTest(
  'a broker that wants TLS client certificates is set up by typing its files in Settings → Machines; a wrong path is refused next to its field',
  90_000,
  async () => {
    await page.goto(agent.url);
    await page.locator('.conn-open').waitFor({ timeout: 15_000 });
    await page.getByRole('link', { name: 'Settings' }).click();
    const machines = page.getByRole('form', { name: 'Machines' });
    await machines.waitFor();
    const rows = await machines.getByRole('group', { name: /^Broker \d+$/ }).count();
    const n = rows + 1;
    const url = `mqtts://127.0.0.1:${tlsBroker!.port}`;
    await machines.getByRole('button', { name: 'Add broker' }).click();
    await machines.getByLabel(`Broker ${n} address`).fill(url);
    await machines.getByText(`Broker ${n} TLS`).click();
    await machines.getByLabel(`Broker ${n} CA file`).fill(path.join(pkiDir, 'no-such-ca.pem'));
    await machines.getByLabel(`Broker ${n} client certificate`).fill(pki!.clientCert);
    await machines.getByLabel(`Broker ${n} client key`).fill(pki!.clientKey);
    await machines.getByRole('button', { name: 'Save machines settings' }).click();
    const caIssue = machines.locator(`[data-path="$.subscribe[${n - 1}].tls.ca"]`);
    await caIssue.waitFor();
    assert.match(await caIssue.innerText(), /cannot read the CA file .*no-such-ca\.pem: ENOENT/);
    assert.doesNotMatch(readFileSync(path.join(agent.dataDir, 'config.json'), 'utf8'), /mqtts:/, 'nothing saved');

    await machines.getByLabel(`Broker ${n} CA file`).fill(pki!.ca);
    // Rules' MQTT messages go to the TLS broker too, with the same files.
    await machines.getByLabel("Publish rules' MQTT messages to their own broker").check();
    await machines.getByLabel('Action broker address').fill(url);
    await machines.getByText('Action broker TLS').click();
    await machines.getByLabel('Action broker CA file').fill(pki!.ca);
    await machines.getByLabel('Action broker client certificate').fill(pki!.clientCert);
    await machines.getByLabel('Action broker client key').fill(pki!.clientKey);
    await machines.getByRole('button', { name: 'Save machines settings' }).click();
    await page.getByText('Machines settings saved').waitFor();
    const receiver = machines.getByRole('region', { name: 'Forwarding status' }).locator('tr', { hasText: url });
    await receiver.getByText('connected', { exact: true }).waitFor({ timeout: 20_000 });
    await machines.getByRole('group', { name: `Broker ${n}` }).screenshot({ path: path.join(SCREENSHOTS, 'settings-machines-tls.png') });

    const saved = JSON.parse(readFileSync(path.join(agent.dataDir, 'config.json'), 'utf8')) as { forwarding: { subscribe: { url: string; tls?: unknown }[]; actionBroker?: unknown } };
    const tls = { ca: pki!.ca, cert: pki!.clientCert, key: pki!.clientKey };
    assert.deepEqual(saved.forwarding.subscribe.find((b) => b.url === url)?.tls, tls);
    assert.deepEqual(saved.forwarding.actionBroker, { url, tls });
    // Shown again as saved after a reload.
    await page.reload();
    await page.locator('.conn-open').waitFor({ timeout: 15_000 });
    await page.getByRole('link', { name: 'Settings' }).click();
    await machines.waitFor();
    assert.equal(await machines.getByLabel('Action broker CA file').inputValue(), pki!.ca);
    assert.equal(await machines.getByLabel(`Broker ${n} client key`).inputValue(), pki!.clientKey);
    assert.deepEqual(watch.problems, []);
    assert.deepEqual(watch.externalRequests, []);
  },
  skipTls,
);
