/**
 * Filtered lists that filter everything away say so and offer the way back, the same way everywhere: the Feed (its
 * text, source, type and unread filters), the Rules list (rules-filter.test.ts) and History's search each show
 * "No … matches" with a "Clear filters" button that resets every filter and puts the cursor back where one types.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openAgentPage, openBrowserPage, startAgent, type Agent, type PageWatch, uiTestOn } from './harness.js';

const SECRET = 'a-long-enough-hook-secret';
let agent: Agent;
let browser: Browser;
let page: Page;
let watch: PageWatch;

before(async () => {
  agent = await startAgent((dir) => {
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ monitors: [{ id: 'webhook:door', type: 'webhook', name: 'Front door', config: { hookId: 'door' } }] }));
    writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ 'webhook:door': { secret: SECRET } }), { mode: 0o600 });
  });
  ({ browser, page, watch } = await openBrowserPage());
  for (const title of ['door opened', 'door closed']) {
    for (let attempt = 0; ; attempt++) {
      const r = await fetch(`${agent.origin}/hooks/door`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-panoptes-secret': SECRET }, body: JSON.stringify({ title }) });
      if (r.status === 200) break;
      // The hook registers once its monitor has started.
      if (attempt > 100) throw new Error(`hook: HTTP ${r.status}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  await openAgentPage(page, agent);
});

after(async () => {
  await browser?.close();
  await agent?.stop();
});

const uiTest = uiTestOn(() => page);

uiTest('the Feed: filters that leave nothing say so, and “Clear filters” resets them all', 60_000, async () => {
  const rows = page.locator('.feed-row');
  await rows.nth(1).waitFor({ timeout: 15_000 });
  await page.getByLabel('Source', { exact: true }).selectOption({ label: 'Front door' });
  await page.getByLabel('Unread', { exact: true }).check();
  await page.getByRole('searchbox', { name: 'Filter events' }).fill('window');
  const empty = page.getByRole('status').filter({ hasText: 'No event matches these filters.' });
  await empty.waitFor();
  assert.equal(await rows.count(), 0);
  await empty.getByRole('button', { name: 'Clear filters' }).click();
  await rows.nth(1).waitFor();
  const filter = page.getByRole('searchbox', { name: 'Filter events' });
  assert.equal(await filter.inputValue(), '');
  assert.equal(await page.getByLabel('Source', { exact: true }).inputValue(), '', 'the source filter is reset');
  assert.equal(await page.getByLabel('Unread', { exact: true }).isChecked(), false, 'unread only is off');
  assert.equal(await filter.evaluate((el) => el === document.activeElement), true, 'the cursor is back in the filter box');
  assert.equal(await empty.count(), 0);
});

uiTest('History: a search that finds nothing says so, and “Clear filters” shows everything again', 60_000, async () => {
  await page.getByRole('link', { name: 'History' }).click();
  const results = page.getByRole('table', { name: 'Search results' }).locator('tbody tr');
  await results.nth(1).waitFor({ timeout: 15_000 });
  const search = page.getByRole('searchbox', { name: 'Search history' });
  await search.fill('window');
  await page.getByLabel('Tag', { exact: true }).fill('nope');
  await search.press('Enter');
  const empty = page.getByRole('status').filter({ hasText: 'No event matches this search.' });
  await empty.waitFor();
  await empty.getByRole('button', { name: 'Clear filters' }).click();
  await results.nth(1).waitFor();
  assert.equal(await search.inputValue(), '');
  assert.equal(await page.getByLabel('Tag', { exact: true }).inputValue(), '');
  assert.equal(await search.evaluate((el) => el === document.activeElement), true);
});

uiTest('History: filters apply as they are chosen, without pressing Search', 60_000, async () => {
  await page.getByRole('link', { name: 'History' }).click();
  const results = page.getByRole('table', { name: 'Search results' }).locator('tbody tr');
  await results.nth(1).waitFor({ timeout: 15_000 });
  const titles = () => results.locator('td').allInnerTexts();
  // A choice in a list applies at once…
  await page.getByLabel('Source', { exact: true }).selectOption({ label: 'Panoptes itself' });
  const empty = page.getByRole('status').filter({ hasText: 'No event matches this search.' });
  await page.waitForFunction(() => !document.body.innerText.includes('door opened'), undefined, { timeout: 10_000 });
  assert.equal((await titles()).some((t) => t.includes('door')), false, 'the door events went away when another source was chosen');
  await page.getByLabel('Source', { exact: true }).selectOption({ label: 'Front door' });
  await results.nth(1).waitFor();
  // …and typed words once the typing pauses.
  await page.getByRole('searchbox', { name: 'Search history' }).pressSequentially('opened', { delay: 30 });
  await page.waitForFunction(() => !document.body.innerText.includes('door closed'), undefined, { timeout: 10_000 });
  assert.equal(await results.count(), 1, 'only the matching event is left');
  await page.getByLabel('Tag', { exact: true }).fill('nope');
  await empty.waitFor({ timeout: 10_000 });
  await empty.getByRole('button', { name: 'Clear filters' }).click();
  await results.nth(1).waitFor();
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
});
