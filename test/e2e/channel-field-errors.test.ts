/// <reference lib="dom" />
// (callbacks below run in the browser through page.evaluate; the project itself compiles without the DOM types)
/**
 * Channel forms (Settings → Channels) check the whole form at once and show every problem at its field, in the style
 * and words of the monitor forms (issue #17): no waves as each is fixed, no raw schema text ("required",
 * "Too small: …"), no browser-native bubbles; an edited channel's stored token counts as given.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { openAgentPage, openBrowserPage, startAgent, type Agent, type PageWatch, uiTestOn } from './harness.js';
import { connectProtocol, type ProtocolClient } from '../helpers/protocol-client.js';

let agent: Agent;
let browser: Browser;
let page: Page;
let watch: PageWatch;
let client: ProtocolClient;

before(async () => {
  agent = await startAgent();
  client = await connectProtocol({ port: Number(new URL(agent.origin).port), token: agent.token });
  ({ browser, page, watch } = await openBrowserPage({ viewport: { width: 1280, height: 1100 } }));
  await openAgentPage(page, agent);
});

after(async () => {
  client?.close();
  await browser?.close();
  await agent?.stop();
});

const uiTest = uiTestOn(() => page);
const channelsRegion = () => page.getByRole('region', { name: 'Channels' });
/** The error shown at the field labelled `label` inside the channel form. */
const errorAt = (form: Locator, label: string) =>
  form.getByLabel(label).first().locator('xpath=ancestor::div[contains(concat(" ", @class, " "), " field ")][1]/div[contains(concat(" ", @class, " "), " error ")]');
const savedChannels = () => (JSON.parse(readFileSync(path.join(agent.dataDir, 'config.json'), 'utf8')) as { channels: { name: string; config: Record<string, unknown> }[] }).channels;
const RAW = /Too small|Too big|Invalid input|Invalid option|expected (string|number)|^required$/m;

async function openSettings(): Promise<void> {
  await page.goto(`${agent.origin}/#/feed`);
  await page.goto(`${agent.origin}/#/settings`);
  await channelsRegion().waitFor({ timeout: 15_000 });
}

uiTest('a new Matrix channel: every problem at its field on the first try, in words, nothing saved', 60_000, async () => {
  await openSettings();
  await channelsRegion().getByLabel('Type').selectOption({ label: 'Matrix' });
  await channelsRegion().getByRole('button', { name: 'Set up' }).click();
  const form = page.getByRole('form', { name: 'New Matrix channel' });
  await form.getByLabel('Room').fill('general');
  await form.getByRole('button', { name: 'Add channel' }).click();
  // Homeserver and Access token are empty (the page can tell), Room is not an id (only the engine's schema can).
  await errorAt(form, 'Room').waitFor({ timeout: 10_000 });
  assert.match(await errorAt(form, 'Homeserver').innerText(), /Homeserver is required/);
  assert.match(await errorAt(form, 'Access token').innerText(), /Access token is required/);
  assert.match(await errorAt(form, 'Room').innerText(), /room id/);
  assert.equal(await form.evaluate((f) => (f as HTMLFormElement).noValidate), true, 'no browser bubbles');
  assert.equal(await form.locator('.error-box').count(), 0, 'nothing left for a banner');
  assert.doesNotMatch(await form.innerText(), RAW);
  assert.deepEqual(savedChannels(), []);
});

uiTest('an ntfy channel being edited: the address and the topic are both told at once; the stored token counts as given', 60_000, async () => {
  await client.call('channels.add', { type: 'ntfy', name: 'Phone', config: { server: 'https://ntfy.example.org', topic: 'phone', token: 'tk_stored' } });
  await openSettings();
  await channelsRegion().getByRole('listitem', { name: 'Channel Phone' }).getByRole('button', { name: 'Edit' }).click();
  const form = page.getByRole('form', { name: 'Edit channel Phone' });
  await form.getByLabel('Server').fill('ftp://ntfy.example.org');
  await form.getByLabel('Topic').fill('my phone!');
  await form.getByRole('button', { name: 'Save' }).click();
  await errorAt(form, 'Topic').waitFor({ timeout: 10_000 });
  assert.match(await errorAt(form, 'Server').innerText(), /https?:\/\//);
  assert.match(await errorAt(form, 'Topic').innerText(), /letters, digits/);
  assert.equal(await errorAt(form, 'Access token').count(), 0, 'the stored token is kept, not asked for');
  assert.doesNotMatch(await form.innerText(), RAW);
  assert.equal(savedChannels()[0]!.config.topic, 'phone', 'nothing saved');

  // Fixed: it saves, the token still stored.
  await form.getByLabel('Server').fill('https://ntfy.example.org');
  await form.getByLabel('Topic').fill('my-phone');
  await form.getByRole('button', { name: 'Save' }).click();
  await form.waitFor({ state: 'detached', timeout: 10_000 });
  assert.equal(savedChannels()[0]!.config.topic, 'my-phone');
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.dialogs, []);
});
