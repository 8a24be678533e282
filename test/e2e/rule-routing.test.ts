/**
 * Per-rule routing in the rule builder, in Debian's Chromium against the real agent and a local ntfy-compatible
 * server: a rule's notifications sent only to chosen channels (the phone and the open pages, not the desktop) and
 * through Do not disturb, picked by clicking, saved in the rule's `notify`, followed when an event comes in while
 * Do not disturb is on, and said in "why did this notify me?".
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openAgentPage, openBrowserPage, SCREENSHOTS, startAgent, type Agent, type PageWatch, uiTestOn } from './harness.js';
import { fakeService, json, type FakeService } from '../helpers/channel-harness.js';

const SECRET = 'a-long-enough-hook-secret';
let agent: Agent;
let ntfy: FakeService;
let browser: Browser;
let page: Page;
let watch: PageWatch;

before(async () => {
  ntfy = await fakeService((r, res) => json(res, 200, { id: 'm1', event: 'message', topic: JSON.parse(r.body).topic }));
  agent = await startAgent((dir) => {
    writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({
        monitors: [{ id: 'webhook:door', type: 'webhook', name: 'Door', config: { hookId: 'door' } }],
        channels: [{ id: 'ntfy:phone', type: 'ntfy', name: 'My phone', config: { server: ntfy.origin, topic: 'phone' } }],
        rules: [{ id: 'doorbell', name: 'Doorbell', when: { type: 'webhook.received' }, then: [{ notify: { title: 'Someone at the door: {{ fields.who }}' } }] }],
        settings: { notifications: { holdDuringFlags: ['dnd'] } },
      }),
    );
    writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ 'webhook:door': { secret: SECRET } }), { mode: 0o600 });
  });
  ({ browser, page, watch } = await openBrowserPage({ viewport: { width: 1280, height: 1000 }, colorScheme: 'light' }));
  page.setDefaultTimeout(20_000);
});

after(async () => {
  await browser?.close();
  await agent?.stop();
  await ntfy?.close();
});

const uiTest = uiTestOn(() => page);

uiTest('a rule routed by clicking to the phone and the pages, through Do not disturb: saved in the rule, followed, and said in "why"', 120_000, async () => {
  await openAgentPage(page, agent);
  await page.getByRole('link', { name: 'Rules' }).click();
  await page.getByRole('listitem', { name: 'Rule Doorbell' }).getByRole('button', { name: 'Edit' }).click();
  const routing = page.getByRole('group', { name: 'Where it goes' });
  await routing.getByText(/Reaches: Desktop, Open Panoptes pages/).waitFor();
  await routing.getByLabel('Only these channels:').check();
  const chosen = routing.getByRole('group', { name: 'Channels of this rule' });
  await chosen.getByLabel('Desktop').uncheck();
  await chosen.getByLabel('My phone').check();
  assert.equal(await chosen.getByLabel('Open Panoptes pages').isChecked(), true);
  await routing.getByLabel('During Do not disturb and quiet hours').selectOption({ label: 'always goes through' });
  mkdirSync(SCREENSHOTS, { recursive: true });
  await routing.screenshot({ path: path.join(SCREENSHOTS, 'rule-routing.png') });
  await page.getByRole('button', { name: 'Save rule' }).click();
  await page.getByRole('listitem', { name: 'Rule Doorbell' }).waitFor();
  const saved = JSON.parse(readFileSync(path.join(agent.dataDir, 'config.json'), 'utf8')) as { rules: { id: string; then: { notify: Record<string, unknown> }[] }[] };
  const notify = saved.rules.find((r) => r.id === 'doorbell')!.then[0]!.notify;
  assert.deepEqual(notify.channels, ['ui', 'ntfy:phone'], 'saved in the rule format');
  assert.equal(notify.throughHolds, true);

  // Do not disturb on: the doorbell still goes to the phone and the page, not held.
  await page.getByRole('link', { name: /Notifications/ }).click();
  await page.getByRole('button', { name: 'Do not disturb' }).click();
  await page.getByRole('button', { name: /DND on until/ }).waitFor();
  const r = await fetch(`${agent.origin}/hooks/door`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-panoptes-secret': SECRET }, body: JSON.stringify({ who: 'the postman' }) });
  assert.equal(r.status, 200);
  const inbox = page.getByRole('list', { name: 'Notifications' });
  await inbox.locator('li.state-shown', { hasText: 'Someone at the door: the postman' }).waitFor();
  const deadline = Date.now() + 20_000;
  while (!ntfy.received.some((x) => JSON.parse(x.body).title === 'Someone at the door: the postman')) {
    if (Date.now() > deadline) throw new Error('the phone got nothing');
    await new Promise((res) => setTimeout(res, 100));
  }

  // "Why did this notify me?" on the event names the rule's own channels and why it went through.
  await page.getByRole('link', { name: 'Feed' }).click();
  await page.getByRole('listitem', { name: /postman|Door/ }).first().click();
  const detail = page.getByRole('article', { name: 'Event details' });
  await detail.getByRole('button', { name: /Why did/ }).click();
  const fates = detail.getByLabel('What happened to its notifications');
  await fates.getByText(/goes through while the "dnd" flag was set: the rule says so/).first().waitFor();
  assert.match(await fates.innerText(), /sent to Open Panoptes pages, My phone \(the rule's own channels\)/);
  assert.deepEqual(watch.problems, []);
});
