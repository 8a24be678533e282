/**
 * Finding a rule among many (#17): the Rules list searches names and summaries (every word must match), filters by
 * trigger, by the machine whose events a rule takes, and by paused; "/" focuses the search, Esc clears it; with
 * nothing left it says "No rules match" with a button that clears the filters; reordering waits for an unfiltered
 * list.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openAgentPage, openBrowserPage, startAgent, type Agent, type PageWatch, uiTestOn } from './harness.js';

let agent: Agent;
let browser: Browser;
let page: Page;
let watch: PageWatch;

const notify = [{ notify: { title: '{{ title }}' } }];
const RULES = [
  { id: 'releases', name: 'Releases', when: { type: 'feed.item' }, if: { field: 'title', contains: 'release' }, then: notify },
  { id: 'boss-mail', name: 'Mail from the boss', when: { type: 'mail.received' }, if: { field: 'fields.from', contains: 'boss@' }, then: notify },
  { id: 'night-mail', name: 'Quiet mail', enabled: false, when: { type: 'mail.received' }, context: { time: { between: ['22:00', '07:00'] } }, then: notify },
  { id: 'pi-disk', name: 'Disk on the pi', when: { type: 'log.line', agent: 'pi' }, then: notify },
  { id: 'everything', name: 'Everything', then: notify },
];

before(async () => {
  agent = await startAgent((dir) => writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ monitors: [], rules: RULES })));
  ({ browser, page, watch } = await openBrowserPage());
  await openAgentPage(page, agent);
  await page.getByRole('link', { name: 'Rules' }).click();
  await page.getByRole('listitem', { name: 'Rule Everything' }).waitFor({ timeout: 15_000 });
});

after(async () => {
  await browser?.close();
  await agent?.stop();
});

const uiTest = uiTestOn(() => page);
const list = () => page.getByRole('list', { name: 'Rules' });
const shownNames = async () => (await list().locator(':scope > li strong').allInnerTexts()).map((s) => s.trim());

uiTest('“/” focuses the search; every word must match a name or the summary; Esc clears it', 60_000, async () => {
  await page.keyboard.press('/');
  const search = page.getByRole('searchbox', { name: 'Search rules' });
  assert.equal(await search.evaluate((el) => el === document.activeElement), true, '/ focuses the search');
  await page.keyboard.type('mail');
  await page.getByRole('status').filter({ hasText: '2 of 5 rules' }).waitFor();
  assert.deepEqual(await shownNames(), ['Mail from the boss', 'Quiet mail']);
  // A word of the summary (its condition), not of the name.
  await search.fill('boss@ mail');
  assert.deepEqual(await shownNames(), ['Mail from the boss']);
  await search.fill('22:00');
  assert.deepEqual(await shownNames(), ['Quiet mail'], 'the hours in the summary are searched');
  await search.press('Escape');
  assert.equal(await search.inputValue(), '');
  assert.equal((await shownNames()).length, 5);
});

uiTest('filters by trigger, by the machine whose events a rule takes, and by paused', 60_000, async () => {
  await page.getByLabel('Trigger').selectOption('mail.received');
  assert.deepEqual(await shownNames(), ['Mail from the boss', 'Quiet mail']);
  await page.getByLabel('State').selectOption('paused');
  assert.deepEqual(await shownNames(), ['Quiet mail']);
  // Reordering is of all rules: not offered while filtered.
  assert.equal(await list().getByRole('button', { name: 'Move Quiet mail up' }).isDisabled(), true);
  await page.getByRole('button', { name: 'Clear', exact: true }).click();
  assert.equal((await shownNames()).length, 5);
  // Rules naming no machine take every machine's events; "pi-disk" only the pi's.
  await page.getByLabel('Events from').selectOption('pi');
  assert.deepEqual(await shownNames(), ['Releases', 'Mail from the boss', 'Quiet mail', 'Disk on the pi', 'Everything']);
  await page.getByLabel('Events from').selectOption({ label: 'This machine' });
  assert.deepEqual(await shownNames(), ['Releases', 'Mail from the boss', 'Quiet mail', 'Everything']);
  await page.getByLabel('Trigger').selectOption({ label: 'any type' });
  assert.deepEqual(await shownNames(), ['Everything']);
});

uiTest('nothing left says “No rules match” with a button that clears the filters', 60_000, async () => {
  await page.getByRole('searchbox', { name: 'Search rules' }).fill('no such rule anywhere');
  const empty = page.getByRole('status').filter({ hasText: 'No rules match these filters.' });
  await empty.waitFor();
  assert.equal((await shownNames()).length, 0);
  await empty.getByRole('button', { name: 'Clear filters' }).click();
  assert.equal((await shownNames()).length, 5);
  assert.equal(await page.getByRole('searchbox', { name: 'Search rules' }).inputValue(), '');
  assert.equal(await page.getByLabel('Trigger').inputValue(), '');
  assert.equal(await list().getByRole('button', { name: 'Move Quiet mail up' }).isDisabled(), false, 'reordering is back');
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
});
