/**
 * End to end, as a user would: open the headless agent's page from the address it prints, add an RSS monitor
 * by clicking through the form generated from the monitor's schema, write a rule, then publish a new item
 * and watch it arrive in the live feed (pushed, without a reload) with the rule's in-page notification.
 * Screenshots of every main view go to test-output/screenshots/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { openBrowserPage, screenshot, startAgent, startFeedServer, type Agent, type FeedServer, type PageWatch, uiTestOn } from './harness.js';

let agent: Agent;
let feed: FeedServer;
let browser: Browser;
let page: Page;
let watch: PageWatch;

before(async () => {
  feed = await startFeedServer('Panoptes Release Notes');
  feed.items.push({
    guid: 'post-1',
    title: 'First post: the walking skeleton',
    link: 'http://127.0.0.1/posts/1',
    description: '<p>The <b>first</b> post, already in the feed before the monitor is added.</p>',
    pubDate: new Date(Date.now() - 3600_000),
  });
  agent = await startAgent();
  ({ browser, page, watch } = await openBrowserPage({ colorScheme: 'light' }));
});

/** A failed step leaves a screenshot of what the page showed, next to the others. */
const uiTest = uiTestOn(() => page);

after(async () => {
  await browser?.close();
  await agent?.stop();
  await feed?.close();
});

uiTest('the page takes the token from the address, hides it, and connects', 60_000, async () => {
  await page.goto(agent.url);
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  assert.ok(!page.url().includes('token='), `the token must leave the address bar, got ${page.url()}`);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await page.getByText('No events yet').waitFor();
  await screenshot(page, 'feed-empty');
});

uiTest('adding an RSS monitor by clicking through the generated form', 90_000, async () => {
  await page.getByRole('link', { name: 'Monitors' }).click();
  await page.getByRole('button', { name: 'Add monitor' }).click();
  await page.getByRole('button', { name: /RSS/ }).click();

  // A bad address is refused in the form, with the message next to the field; nothing is added.
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Release notes');
  await page.getByLabel('Feed address').fill('not a url');
  await page.getByRole('button', { name: 'Add monitor' }).click();
  await page.getByRole('alert').filter({ hasText: /full URL|http/ }).first().waitFor();

  await page.getByLabel('Feed address').fill(feed.url);
  // The secret field of the schema is a password field.
  assert.equal(await page.getByLabel('Password').getAttribute('type'), 'password');

  await page.getByRole('button', { name: 'Test now' }).click();
  const result = page.getByRole('region', { name: 'Test result' });
  await result.getByText('First post: the walking skeleton').waitFor({ timeout: 30_000 });
  await screenshot(page, 'monitor-form');

  await page.getByRole('button', { name: 'Add monitor' }).click();
  const card = page.getByRole('listitem', { name: 'Monitor Release notes' });
  await card.waitFor({ timeout: 15_000 });
  // The first check only remembers what is there; wait for it so the next item is news.
  await card.locator('.status-ok').waitFor({ timeout: 30_000 });
  await screenshot(page, 'monitors');
});

uiTest('writing a rule in the JSON tab of the rule builder, with the engine validating it', 60_000, async () => {
  await page.getByRole('link', { name: 'Rules' }).click();
  await page.getByRole('button', { name: 'New rule' }).click();
  await page.getByRole('tab', { name: 'JSON' }).click();
  const editor = page.getByLabel('Rule JSON');
  await editor.fill(JSON.stringify({ id: 'bad', name: 'Broken', when: { type: 'feed.item' }, if: { field: 'title', frobnicates: 'x' }, then: [] }, null, 2));
  // The engine's own issues, each with its JSON path.
  const problems = page.getByRole('alert', { name: 'Problems' });
  await problems.getByText('$.if.frobnicates').waitFor();
  await problems.getByText('$.then').waitFor();

  const rule = {
    id: 'e2e-new-post',
    name: 'Tell me about new posts',
    enabled: true,
    when: { type: 'feed.item' },
    if: { field: 'title', contains: 'post' },
    then: [{ notify: { title: 'New: {{ title }}', body: 'from {{ source }}', url: '{{ url }}' } }],
  };
  await editor.fill(JSON.stringify(rule, null, 2));
  await page.getByText('The engine accepts this rule.').waitFor();
  // The form shows the same rule the JSON tab holds.
  await page.getByRole('tab', { name: 'Form' }).click();
  assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Tell me about new posts');
  await page.getByRole('button', { name: 'Save rule' }).click();
  await page.getByRole('listitem', { name: 'Rule Tell me about new posts' }).waitFor();
  await screenshot(page, 'rules');
});

uiTest('a new feed item appears live in the feed, with the rule’s notification as a toast', 120_000, async () => {
  await page.getByRole('link', { name: 'Feed' }).click();
  // Page-side code is passed as strings: this project's Node tsconfig has no DOM types.
  await page.evaluate('window.e2eSentinel = 42');

  feed.items.push({
    guid: 'post-2',
    title: 'Second post: it works live',
    link: 'http://127.0.0.1/posts/2',
    description: '<p>Arrived <em>while the page was open</em>.</p>',
  });
  // The RSS monitor polls every few minutes at most; pausing and resuming all monitors makes it check now.
  await page.getByRole('button', { name: 'Pause monitors' }).click();
  await page.getByRole('button', { name: 'Resume monitors' }).click();
  await page.getByRole('button', { name: 'Pause monitors' }).waitFor();

  const row = page.getByRole('listitem', { name: /Second post: it works live/ });
  await row.waitFor({ timeout: 60_000 });
  const sentinel = await page.evaluate('window.e2eSentinel');
  assert.equal(sentinel, 42, 'the event must arrive by push, without reloading the page');
  // Only the new item: the one that was there before the monitor was added is not news.
  assert.equal(await page.getByRole('listitem', { name: /First post/ }).count(), 0);

  // The built-in feed rule and this rule both notify for the item: one notification (the first rule's text), one toast.
  const toast = page.getByRole('region', { name: 'Notifications' }).locator('.toast-title', { hasText: 'Second post: it works live' });
  await toast.first().waitFor({ timeout: 30_000 });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await toast.count(), 1, 'one notification for the event, not one per rule');
  await screenshot(page, 'feed-live');

  await row.click();
  const detail = page.getByRole('article', { name: 'Event details' });
  // The published HTML is shown (sanitized), emphasis included.
  await detail.locator('.html-body em').getByText('while the page was open').waitFor();
  await screenshot(page, 'feed-detail');
});

uiTest('keyboard: j/k move through the feed and / focuses the filter', 30_000, async () => {
  await page.keyboard.press('Escape');
  await page.keyboard.press('j');
  assert.equal(await page.locator('.feed-row.selected').count(), 1);
  await page.keyboard.press('/');
  assert.equal(await page.evaluate("document.activeElement?.getAttribute('aria-label')"), 'Filter events');
  await page.keyboard.press('Escape');
});

uiTest('history search finds the item and highlights the match', 30_000, async () => {
  await page.getByRole('link', { name: 'History' }).click();
  await page.getByLabel('Search history').fill('works');
  await page.getByLabel('Search history').press('Enter');
  const results = page.getByRole('table', { name: 'Search results' });
  await results.getByText('Second post', { exact: false }).waitFor();
  assert.ok((await results.locator('mark').allTextContents()).some((t) => t.toLowerCase() === 'works'));
  await screenshot(page, 'history');
});

uiTest('flags can be set by hand and are listed', 30_000, async () => {
  await page.getByRole('link', { name: 'Flags' }).click();
  await page.getByLabel('Flag', { exact: true }).fill('focus');
  await page.getByLabel('For (optional)').fill('30m');
  await page.getByRole('button', { name: 'Set flag' }).click();
  await page.getByRole('button', { name: 'Clear flag focus' }).waitFor();
  await screenshot(page, 'flags');
});

uiTest('settings and dashboard render from the agent’s data', 30_000, async () => {
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByText(agent.dataDir).waitFor();
  await screenshot(page, 'settings');
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.locator('.chart canvas').first().waitFor();
  await screenshot(page, 'dashboard');
});

uiTest('the dark theme follows the system', 30_000, async () => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.getByRole('link', { name: 'Feed' }).click();
  const bg = await page.evaluate('getComputedStyle(document.body).backgroundColor');
  assert.notEqual(bg, 'rgb(246, 247, 249)');
  await screenshot(page, 'feed-dark');
  await page.emulateMedia({ colorScheme: 'light' });
});

uiTest('without the token, or with a wrong one, the page says to open the address the agent printed', 30_000, async () => {
  const context = await browser.newContext();
  try {
    const bare = await context.newPage();
    await bare.goto(agent.origin + '/');
    await bare.getByRole('heading', { name: 'Open Panoptes from its own link' }).waitFor();
    await bare.getByText('panoptes agent').first().waitFor();

    const wrong = await context.newPage();
    await wrong.goto(agent.origin + '/#token=not-the-token');
    await wrong.getByRole('heading', { name: /did not accept/ }).waitFor({ timeout: 15_000 });
    await screenshot(wrong, 'wrong-token');
  } finally {
    await context.close();
  }
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.dialogs, []);
  assert.deepEqual(watch.externalRequests, []);
});
