/**
 * Settings → Channels in Debian's Chromium against the real headless agent and a local ntfy-compatible server:
 * an unknown Apprise scheme refused at the URL field, an ntfy channel added by pasting its URL (the token kept out
 * of config.json), "Send test notification" reaching the server and the channel turning ok, a wrong token's 401
 * shown at the token field, and a form built from a type's schema that asks for its missing token.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { launchChromium, SCREENSHOTS, startAgent, watchPage, type Agent, type PageWatch, uiTest as harnessUiTest } from './harness.js';
import { fakeService, json, type FakeService } from '../helpers/channel-harness.js';

let agent: Agent;
let ntfy: FakeService;
let browser: Browser;
let page: Page;
let watch: PageWatch;

before(async () => {
  // ntfy's publish-as-JSON endpoint; topic "phone" is protected by the token tk_good.
  ntfy = await fakeService((r, res) => {
    if (r.headers.authorization !== 'Bearer tk_good') return json(res, 401, { code: 40101, http: 401, error: 'unauthorized', link: 'https://ntfy.sh/docs/publish/#authentication' });
    json(res, 200, { id: 'e2e1', event: 'message', topic: JSON.parse(r.body).topic });
  });
  agent = await startAgent();
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 1100 }, colorScheme: 'light' });
  page = await context.newPage();
  watch = watchPage(page);
});

after(async () => {
  await browser?.close();
  await agent?.stop();
  await ntfy?.close();
});

const uiTest = (name: string, timeout: number, fn: () => Promise<void>) => harnessUiTest(() => page, name, { timeout }, fn);

uiTest('Settings → Channels: add ntfy from a URL, send a test notification, see a 401 at the token field', 120_000, async () => {
  await page.goto(agent.url);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await page.getByRole('link', { name: 'Settings' }).click();
  const channels = page.getByRole('region', { name: 'Channels' });
  await channels.getByText('No channels yet').waitFor();

  // An unknown scheme: the message is at the URL field, nothing is added.
  await channels.getByLabel('…or paste an Apprise URL').fill('foo://bar/baz');
  await channels.getByRole('button', { name: 'Add from URL' }).click();
  await channels.getByRole('alert').getByText(/unknown channel scheme "foo:\/\/"/).waitFor();
  assert.equal(await channels.getByRole('listitem').count(), 0);

  // The ntfy URL with its token.
  const port = new URL(ntfy.origin).port;
  await channels.getByLabel('…or paste an Apprise URL').fill(`ntfy://tk_good@127.0.0.1:${port}/phone`);
  await channels.getByLabel('Name', { exact: true }).first().fill('My phone');
  await channels.getByRole('button', { name: 'Add from URL' }).click();
  const row = channels.getByRole('listitem', { name: 'Channel My phone' });
  await row.waitFor();
  assert.match(await row.innerText(), /ntfy[\s\S]*not used yet/i);
  assert.doesNotMatch(readFileSync(path.join(agent.dataDir, 'config.json'), 'utf8'), /tk_good/, 'the token is not in config.json');

  // Send test notification: it reaches the server and the channel shows ok.
  await row.getByRole('button', { name: 'Send test notification' }).click();
  await row.getByRole('status', { name: 'Test result' }).getByText('ntfy accepted the test notification').waitFor({ timeout: 20_000 });
  const sent = JSON.parse(ntfy.received.at(-1)!.body);
  assert.equal(sent.topic, 'phone');
  assert.equal(sent.title, 'Panoptes test notification');
  assert.equal(ntfy.received.at(-1)!.headers.authorization, 'Bearer tk_good');
  await row.getByText(/ok · sent/i).waitFor({ timeout: 10_000 });

  // A wrong token typed into the edit form: the test's 401 is shown at the token field.
  await row.getByRole('button', { name: 'Edit' }).click();
  const form = channels.getByRole('form', { name: 'Edit channel My phone' });
  assert.match((await form.getByLabel('Access token').getAttribute('placeholder')) ?? '', /stored/);
  await form.getByLabel('Access token').fill('tk_wrong');
  await form.getByRole('button', { name: 'Send test notification' }).click();
  const tokenField = form.locator('.field', { has: page.getByLabel('Access token') });
  await tokenField.getByRole('alert').getByText(/ntfy did not accept the credentials \(401\)/).waitFor({ timeout: 20_000 });
  assert.equal(ntfy.received.at(-1)!.headers.authorization, 'Bearer tk_wrong');
  await form.getByRole('button', { name: 'Cancel' }).click();

  // A type picked from the list: the form comes from its schema and asks for the missing token at its field.
  await channels.getByLabel('Type').selectOption('gotify');
  await channels.getByRole('button', { name: 'Set up' }).click();
  const gotify = channels.getByRole('form', { name: 'New Gotify channel' });
  await gotify.getByLabel('Server').fill('https://gotify.example.org');
  await gotify.getByRole('button', { name: 'Add channel' }).click();
  await gotify.locator('.field', { has: page.getByLabel('Application token') }).getByRole('alert').getByText('Application token is required').waitFor();
  await gotify.getByRole('button', { name: 'Cancel' }).click();

  await channels.scrollIntoViewIfNeeded();
  mkdirSync(SCREENSHOTS, { recursive: true });
  await channels.screenshot({ path: path.join(SCREENSHOTS, 'settings-channels.png') });
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.externalRequests, []);
});
