/**
 * "Test against history" says per event why it did not fire (#17), for each kind of reason: a condition (event-time
 * test), the rule's hours, and its throttle. Each reason says what held the event back in a person's words: the
 * hours it may fire in and when the event came, or the throttle's pace and when the last firing was — never "the
 * rule fires" for an event that did not fire. Times in them are local, as everywhere in the UI.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openAgentPage, openBrowserPage, startAgent, startFeedServer, type Agent, type FeedServer, type PageWatch, uiTestOn } from './harness.js';

let agent: Agent;
let feed: FeedServer;
let browser: Browser;
let page: Page;
let watch: PageWatch;

before(async () => {
  feed = await startFeedServer('Reasons Feed');
  for (const n of [1, 2, 3]) feed.items.push({ guid: `r${n}`, title: `Item ${n}`, link: `http://127.0.0.1/${n}`, description: 'x' });
  agent = await startAgent((dir) =>
    writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({ monitors: [{ id: 'rss:reasons', type: 'rss', name: 'Reasons', enabled: true, config: { url: feed.url, emitCurrentItems: true } }], rules: [] }),
    ),
  );
  ({ browser, page, watch } = await openBrowserPage({ viewport: { width: 1280, height: 900 } }));
  await openAgentPage(page, agent);
  await page.getByRole('listitem', { name: /Item 3/ }).waitFor({ timeout: 30_000 });
});

after(async () => {
  await browser?.close();
  await agent?.stop();
  await feed?.close();
});

const uiTest = uiTestOn(() => page);
const hhmm = (h: number) => `${String(((h % 24) + 24) % 24).padStart(2, '0')}:00`;

/** Tests `rule` against history from the builder's JSON tab; returns the result region, its "did not fire" list open. */
async function testRule(rule: Record<string, unknown>, firings: RegExp) {
  await page.goto(`${agent.origin}/#/feed`);
  await page.getByRole('link', { name: 'Rules' }).click();
  await page.getByRole('button', { name: 'New rule' }).click();
  await page.getByRole('tab', { name: 'JSON' }).click();
  await page.getByLabel('Rule JSON').fill(JSON.stringify(rule, null, 2));
  await page.getByText('The engine accepts this rule.').waitFor();
  const panel = page.getByRole('region', { name: 'Test against history' });
  await panel.getByRole('button', { name: 'Test against history' }).click();
  const result = panel.getByRole('region', { name: 'History test result' });
  await result.getByText(firings).waitFor({ timeout: 30_000 });
  await result.getByText(/Why the other \d+ events? did not fire/).click();
  return result.getByRole('list', { name: 'Events that did not fire' });
}

uiTest('outside the rule’s hours: the reason names its hours and when the event came', 90_000, async () => {
  // Hours that exclude now (and the minutes the test takes): three hours from now, for an hour.
  const from = hhmm(new Date().getHours() + 3);
  const to = hhmm(new Date().getHours() + 4);
  const misses = await testRule(
    { id: 'later', name: 'Later', when: { type: 'feed.item' }, context: { time: { between: [from, to] } }, then: [{ notify: { title: '{{ title }}' } }] },
    /^0 firings$/,
  );
  const line = await misses.locator('li', { hasText: 'Item 2' }).innerText();
  assert.match(line, new RegExp(`${from}–${to}`), `the rule's hours are named: ${line}`);
  assert.match(line, /came at \d\d:\d\d on (Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day/, `when the event came, in words: ${line}`);
  assert.doesNotMatch(line, /on day \d/);
});

uiTest('held back by the throttle: the reason says so, with its pace and the last firing — not “the rule fires”', 90_000, async () => {
  const misses = await testRule(
    { id: 'paced', name: 'Paced', when: { type: 'feed.item' }, throttle: { per: '1h' }, then: [{ notify: { title: '{{ title }}' } }] },
    /^1 firing$/,
  );
  assert.equal(await misses.locator('li').count(), 2);
  for (const line of await misses.locator('li').allInnerTexts()) {
    assert.match(line, /throttle/, line);
    assert.match(line, /one (firing )?per 1h/, line);
    assert.doesNotMatch(line, /the rule fires/, `an event that did not fire is not said to fire: ${line}`);
    assert.doesNotMatch(line, /\d{4}-\d\d-\d\dT\d\d:\d\d/, `times in local time, as the rest of the UI shows them, not ISO: ${line}`);
  }
  // The last firing and the next possible one, each shown as the UI shows times (the browser's local time), the
  // exact time kept in the element.
  const times = misses.locator('li').first().locator('time[datetime]');
  const shown = await times.evaluateAll((els) => els.map((el) => ({ text: (el as HTMLElement).innerText, local: new Date(el.getAttribute('datetime')!).toLocaleString() })));
  assert.equal(shown.filter((t) => t.text === t.local).length, 3, `the event's time, the last firing and the next: ${JSON.stringify(shown)}`);
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
});
