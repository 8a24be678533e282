/**
 * The notification center from the browser, as a user meets it: a notification fired while no page was open is
 * shown once by the page opened afterwards; Do not disturb from the header holds what comes in and releases it as
 * one summary that opens into its items; a storm becomes one fold; the inbox shows each with its fate, the unread
 * count is in the header and the tab title. The inbox screenshot in the README is taken here.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openBrowserPage, screenshot, SCREENSHOTS, startAgent, type Agent, type PageWatch, uiTestOn } from './harness.js';

const SECRET = 'a-long-enough-hook-secret';
let agent: Agent;
let browser: Browser;
let page: Page;
let watch: PageWatch;

before(async () => {
  agent = await startAgent((dir) => {
    writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({
        monitors: [{ id: 'webhook:ci', type: 'webhook', name: 'CI', config: { hookId: 'ci' } }],
        rules: [
          { id: 'builds', name: 'Build results', when: { type: 'webhook.received' }, then: [{ notify: { title: '{{ fields.title }}', body: 'build {{ fields.build }}' } }] },
          { id: 'failures', name: 'Failed builds', when: { type: 'webhook.received' }, if: { field: 'fields.status', equals: 'failed' }, then: [{ notify: { title: 'FAILED {{ fields.title }}', priority: 'high' } }] },
        ],
        settings: { notifications: { holdDuringFlags: ['dnd'], allowHighPriorityThrough: false, storm: { perRule: 3, overall: 4, windowSeconds: 5 } } },
      }),
    );
    writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ 'webhook:ci': { secret: SECRET } }), { mode: 0o600 });
  });
  ({ browser, page, watch } = await openBrowserPage({ viewport: { width: 1280, height: 860 }, colorScheme: 'light' }));
  page.setDefaultTimeout(20_000);
});

after(async () => {
  await browser?.close();
  await agent?.stop();
});

const uiTest = uiTestOn(() => page);

async function post(body: Record<string, unknown>): Promise<number> {
  const r = await fetch(`${agent.origin}/hooks/ci`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-panoptes-secret': SECRET }, body: JSON.stringify(body) });
  return r.status;
}

const toasts = () => page.getByRole('region', { name: 'Notifications' });
const inbox = () => page.getByRole('list', { name: 'Notifications' });

uiTest('a notification fired while no page was open is shown once by the page opened afterwards', 90_000, async () => {
  const deadline = Date.now() + 20_000;
  while ((await post({ build: 1, title: 'Nightly build passed', status: 'ok' }).catch(() => 0)) !== 200) {
    if (Date.now() > deadline) throw new Error('the hook did not come up');
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 1_000)); // decided and recorded with nobody watching
  await page.goto(agent.url);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await toasts().getByText('Nightly build passed').waitFor({ timeout: 10_000 });
  await page.reload();
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(await toasts().getByText('Nightly build passed').count(), 0, 'not shown again after a reload');
  assert.match(await page.title(), /^\(1\) Panoptes$/, 'the tab title carries the unread count');
});

uiTest('Do not disturb from the header holds notifications and releases them as one summary that opens into its items', 90_000, async () => {
  await page.getByRole('link', { name: /Notifications/ }).click();
  await page.getByRole('button', { name: 'Do not disturb' }).click();
  await page.getByRole('button', { name: /DND on until/ }).waitFor();
  assert.equal(await post({ build: 2, title: 'Docs build passed', status: 'ok' }), 200);
  assert.equal(await post({ build: 3, title: 'Release build failed', status: 'failed' }), 200);
  assert.equal(await post({ build: 4, title: 'Lint passed', status: 'ok' }), 200);
  const held = inbox().locator('li.state-held');
  await held.nth(2).waitFor({ timeout: 10_000 });
  assert.equal(await held.count(), 3, 'three held, one per event (the failed build\'s two rules are one notification)');
  await page.getByRole('status').filter({ hasText: 'Holding notifications' }).waitFor();
  await page.locator('.page-head').getByText(/· 3 held$/).waitFor();
  assert.equal(await toasts().getByText('Docs build passed').count(), 0, 'no toast while held');
  assert.match(await held.first().innerText(), /held/, 'each shows its fate');

  await page.getByRole('combobox', { name: 'Do not disturb for' }).selectOption('off');
  const summary = inbox().locator('li.kind-summary');
  await summary.waitFor({ timeout: 10_000 });
  assert.equal(await summary.locator('.inbox-title').innerText(), '3 held: 3 webhooks');
  await toasts().getByText('3 held: 3 webhooks').waitFor();
  assert.equal(await inbox().locator('li.state-held').count(), 0, 'the held items moved into the summary');
  await page.locator('.page-head').getByText(/held/).waitFor({ state: 'detached' });
  // (The summary's toast lists the last titles in its body; no toast of its own for a held item.)
  assert.equal(await toasts().locator('.toast-title', { hasText: '3 held: 3 webhooks' }).count(), 1, 'one summary');
  assert.equal(await toasts().locator('.toast-title', { hasText: 'Docs build passed' }).count(), 0, 'the held items are not toasted one by one');
  await summary.getByRole('button', { name: 'Open 3' }).click();
  const inside = summary.getByRole('list');
  await inside.getByText('FAILED Release build failed').waitFor();
  assert.equal(await inside.locator('li').count(), 3);
});

uiTest('a storm of notifications becomes one fold with every item inside', 90_000, async () => {
  for (let b = 10; b < 22; b++) assert.equal(await post({ build: b, title: `Matrix job ${b} passed`, status: 'ok' }), 200);
  const fold = inbox().locator('li.kind-fold');
  await fold.waitFor({ timeout: 10_000 });
  await fold.locator('.fate', { hasText: /collecting a storm|folded/ }).waitFor();
  // The fold goes out when the storm's window (5 s here) ends.
  await fold.locator('.fate', { hasText: /^\d+ folded$/ }).waitFor({ timeout: 15_000 });
  const title = await fold.locator('.inbox-title').innerText();
  const m = /^(\d+) new items from Build results$/.exec(title);
  assert.ok(m, title);
  const singles = await inbox().locator('li.kind-single', { hasText: 'Matrix job' }).count();
  assert.equal(singles + Number(m[1]), 12, 'every item reachable: shown alone or inside the fold');
  assert.ok(singles <= 4, `${singles} shown one by one before the storm folded`);
  await fold.getByRole('button', { name: /^Open \d+/ }).click();
  await fold.getByRole('list').locator('li').nth(Number(m[1]) - 1).waitFor();
  assert.equal(await fold.getByRole('list').getByText('Matrix job 21 passed').count(), 1, 'the last item is inside the fold');
  assert.equal(await toasts().locator('.toast-title', { hasText: 'Matrix job 21 passed' }).count(), 0, 'a folded item is not toasted on its own');
  const unread = await page.locator('.nav-badge').innerText();
  assert.ok(Number(unread) >= 3, `unread badge ${unread}`);
  // For the README: the fold closed again, the summary open, the toasts dismissed.
  await fold.getByRole('button', { name: 'Close' }).click();
  for (const b of await toasts().getByRole('button', { name: 'Dismiss notification' }).all()) await b.click({ timeout: 2_000 }).catch(() => {});
  await inbox().locator('li.kind-summary').getByRole('list').getByText('FAILED Release build failed').waitFor(); // still open from above
  await page.mouse.move(0, 0);
  await screenshot(page, 'notifications');
  assert.deepEqual(watch.problems, []);
});

uiTest('mark all read clears the unread count in the header and the tab title', 30_000, async () => {
  await page.getByRole('button', { name: 'Mark all read' }).click();
  await page.locator('.nav-badge').waitFor({ state: 'detached', timeout: 10_000 });
  await page.waitForFunction('document.title === "Panoptes"');
});

uiTest('Settings → Notifications: quiet hours, storms and routing are set in the form', 60_000, async () => {
  await page.getByRole('link', { name: 'Settings' }).click();
  const quiet = page.getByRole('group', { name: 'Quiet hours' });
  await quiet.getByLabel(/Hold notifications during quiet hours/).check();
  await quiet.getByLabel('Time zone').fill('Mars/Olympus');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText(/not a time zone this system knows/).waitFor();
  await quiet.getByLabel('Time zone').fill('Europe/Berlin');
  await page.getByRole('group', { name: 'Routing' }).getByLabel('low → Desktop').check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Settings saved').waitFor();
  await page.getByRole('group', { name: 'Quiet hours' }).screenshot({ path: path.join(SCREENSHOTS, 'settings-notifications.png') });
});
