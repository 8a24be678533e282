/**
 * The rule builder end to end, against the real agent and a local RSS publisher, in Debian's Chromium:
 * build a rule by clicking (a condition, a count pattern, a notification whose template previews on a real
 * event), see the engine's validation next to the field it is about, test the rule against the stored history
 * (firings with their traces), save it, and get the in-page notification when matching items arrive. Then the
 * rule's recorded firings, "why didn't this notify me?" on another event, reordering, a monitor's "Check now"
 * and retention, and the desktop shell's open-event/open-view messages.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, screenshot, startAgent, startFeedServer, watchPage, type Agent, type FeedServer, type PageWatch } from './harness.js';

let agent: Agent;
let feed: FeedServer;
let browser: Browser;
let page: Page;
let watch: PageWatch;

before(async () => {
  feed = await startFeedServer('Builder Releases');
  agent = await startAgent();
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  page = await context.newPage();
  watch = watchPage(page);
});

after(async () => {
  await browser?.close();
  await agent?.stop();
  await feed?.close();
});

function uiTest(name: string, timeout: number, fn: () => Promise<void>) {
  test(name, { timeout }, async () => {
    try {
      await fn();
    } catch (err) {
      await screenshot(page, 'FAILED-' + name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)).catch(() => {});
      throw err;
    }
  });
}

let n = 0;
function publish(title: string): void {
  n++;
  feed.items.push({ guid: `item-${n}`, title, link: `http://127.0.0.1/items/${n}`, description: `<p>${title}</p>`, pubDate: new Date() });
}

const monitorCard = () => page.getByRole('listitem', { name: 'Monitor Builder releases' });

/** Ask the RSS monitor to check now (instead of waiting for its schedule) and wait until `title` is in the feed. */
async function checkNowAndWaitFor(title: string): Promise<void> {
  await page.getByRole('link', { name: 'Monitors' }).click();
  await monitorCard().getByRole('button', { name: 'Check now' }).click();
  await page.getByRole('region', { name: 'Notifications' }).getByText('Checking “Builder releases” now').waitFor();
  await page.getByRole('link', { name: 'Feed' }).click();
  await page.getByRole('listitem', { name: new RegExp(title.replace(/[.]/g, '\\.')) }).waitFor({ timeout: 30_000 });
}

uiTest('an RSS monitor whose items make a history', 90_000, async () => {
  await page.goto(agent.url);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await page.getByRole('link', { name: 'Monitors' }).click();
  await page.getByRole('button', { name: 'Add monitor' }).click();
  await page.getByRole('button', { name: /RSS/ }).click();
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Builder releases');
  await page.getByLabel('Feed address').fill(feed.url);
  await page.getByLabel('Keep its events (days)').fill('30');
  await page.getByRole('button', { name: 'Add monitor' }).click();
  await monitorCard().locator('.status-ok').waitFor({ timeout: 30_000 });
  // Per-monitor retention went to the engine with the new monitor.
  await monitorCard().getByText('30 days').waitFor();

  publish('Release 1.0');
  publish('Meetup notes');
  publish('Release 1.1');
  await checkNowAndWaitFor('Release 1.1');
});

uiTest('building a rule by clicking, with inline validation and a live template preview', 90_000, async () => {
  await page.getByRole('link', { name: 'Rules' }).click();
  await page.getByRole('button', { name: 'New rule' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Release burst');
  // The id follows the name.
  assert.equal(await page.getByLabel('Id', { exact: true }).inputValue(), 'release-burst');

  const trigger = page.getByRole('region', { name: 'Trigger' });
  await trigger.getByLabel('From monitor').selectOption({ label: 'Builder releases (rss)' });
  await trigger.getByLabel('Event type').selectOption('feed.item');

  await trigger.getByRole('button', { name: 'Add a condition' }).click();
  const leaf = trigger.getByRole('group', { name: 'Condition $.if' });
  await leaf.getByLabel('Field').fill('title');
  // A broken regular expression: the engine's message appears next to the value it is about.
  await leaf.getByLabel('Operator').selectOption('matches');
  await leaf.getByLabel('Value').fill('Release (');
  const regexIssue = leaf.locator('[data-path="$.if.matches"]');
  await regexIssue.waitFor();
  assert.match(await regexIssue.innerText(), /\S/);
  assert.equal(await leaf.getByLabel('Value').getAttribute('aria-invalid'), 'true');
  await page.getByRole('alert', { name: 'Problems' }).getByText('$.if.matches').waitFor();
  await screenshot(page, 'rule-builder-issue');

  await leaf.getByLabel('Operator').selectOption('contains');
  await leaf.getByLabel('Value').fill('Release');
  await regexIssue.waitFor({ state: 'detached' });

  const pattern = page.getByRole('region', { name: 'Pattern' });
  await pattern.getByLabel('Pattern').selectOption('count');
  await pattern.getByLabel('How many').fill('2');
  await pattern.getByLabel('Within').fill('1h');

  const actions = page.getByRole('region', { name: 'Actions' });
  const title = actions.getByRole('textbox', { name: 'Notification title', exact: true });
  await title.fill('{{ count }} releases, latest: {{ title | upcase }}');
  // Rendered by the engine on the newest stored item from this monitor.
  await actions.getByRole('status', { name: 'Preview of Notification title' }).getByText(/^1 releases, latest: RELEASE 1\.[01]$/).waitFor();
  await actions.getByRole('textbox', { name: 'Notification body', exact: true }).fill('{{ source }}');
  await page.getByText('The engine accepts this rule.').waitFor();

  // The JSON tab holds what the clicks built.
  await page.getByRole('tab', { name: 'JSON' }).click();
  const json = JSON.parse(await page.getByLabel('Rule JSON').inputValue()) as Record<string, unknown>;
  assert.deepEqual(json.if, { field: 'title', contains: 'Release' });
  assert.deepEqual(json.pattern, { count: 2, within: '1h' });
  assert.equal((json.when as { type: string }).type, 'feed.item');
  await page.getByRole('tab', { name: 'Form' }).click();
  await screenshot(page, 'rule-builder');
});

uiTest('testing the rule against history shows its firings and their traces, before saving', 60_000, async () => {
  const panel = page.getByRole('region', { name: 'Test against history' });
  await panel.getByRole('button', { name: 'Test against history' }).click();
  const result = panel.getByRole('region', { name: 'History test result' });
  await result.getByText(/^1 firing$/).waitFor({ timeout: 30_000 });
  await result.getByText(/over 3 stored events/).waitFor();
  const firing = result.getByRole('listitem', { name: 'Firing 1' });
  // The two releases, not the meetup notes.
  const events = firing.getByRole('list', { name: 'Events' });
  await events.getByText('Release 1.0').waitFor();
  await events.getByText('Release 1.1').waitFor();
  assert.equal(await firing.getByText('Meetup notes').count(), 0);
  await firing.getByText('Trace').click();
  await firing.getByRole('table', { name: 'Conditions' }).getByText('$.if').waitFor();
  await firing.getByText(/notify “2 releases, latest: RELEASE 1\.[01]”/).waitFor();
  await panel.scrollIntoViewIfNeeded();
  await screenshot(page, 'rule-test');
  // Nothing was saved by testing.
  await page.getByRole('link', { name: 'Rules' }).isVisible();
});

uiTest('after saving, the next matching items fire the rule and notify in the page', 90_000, async () => {
  await page.getByRole('button', { name: 'Save rule' }).click();
  await page.getByRole('listitem', { name: 'Rule Release burst' }).waitFor();

  publish('Release 2.0');
  publish('Release 2.1');
  await checkNowAndWaitFor('Release 2.1');
  await page.getByRole('region', { name: 'Notifications' }).getByText(/^2 releases, latest: RELEASE 2\.[01]$/).waitFor({ timeout: 30_000 });
  await screenshot(page, 'rule-notified');
});

uiTest('the rule lists its recent firings with why they fired', 30_000, async () => {
  await page.getByRole('link', { name: 'Rules' }).click();
  const card = page.getByRole('listitem', { name: 'Rule Release burst' });
  await card.getByRole('button', { name: 'Recent firings' }).click();
  const firings = card.getByRole('region', { name: 'Recent firings of release-burst' });
  await firings.getByRole('list', { name: 'Events' }).getByText('Release 2.1').waitFor();
  await firings.getByText('Why it fired').first().click();
  await firings.getByRole('table', { name: 'Conditions' }).first().getByText('$.if').waitFor();
  await screenshot(page, 'rule-firings');
});

uiTest('rules can be reordered, and the order is saved', 30_000, async () => {
  const names = () => page.getByRole('list', { name: 'Rules' }).locator('> li .card-head .grow > strong').allInnerTexts();
  const before = await names();
  const i = before.indexOf('Release burst');
  assert.ok(i > 0, `the new rule is appended last: ${before.join(', ')}`);
  await page.getByRole('button', { name: 'Move Release burst up' }).click();
  const expected = before.slice();
  expected.splice(i - 1, 2, before[i]!, before[i - 1]!);
  assert.deepEqual(await names(), expected);
  // From the engine, not just the page's state.
  await page.reload();
  await page.locator('.conn-open').waitFor();
  await page.getByRole('link', { name: 'Rules' }).click();
  await page.getByRole('listitem', { name: 'Rule Release burst' }).waitFor();
  assert.deepEqual(await names(), expected);
});

uiTest('"why didn’t this notify me?" explains each rule’s verdict on an event', 30_000, async () => {
  await page.getByRole('link', { name: 'Feed' }).click();
  await page.getByRole('listitem', { name: /Meetup notes/ }).click();
  const detail = page.getByRole('article', { name: 'Event details' });
  await detail.getByRole('button', { name: /Why did/ }).click();
  const verdict = detail.getByRole('listitem', { name: 'Rule release-burst: does not match' });
  await verdict.waitFor();
  assert.match(await verdict.innerText(), /\$\.if/);
  await screenshot(page, 'feed-explain');
});

uiTest('the desktop shell’s messages open an event and a view', 30_000, async () => {
  const id = await page.getByRole('listitem', { name: /Release 1\.0/ }).getAttribute('data-event-id');
  assert.ok(id);
  await page.getByRole('link', { name: 'History' }).click();
  // What electron/preload.cts posts to the page.
  await page.evaluate(`window.postMessage({ type: 'panoptes-open-event', eventId: ${JSON.stringify(id)} }, '*')`);
  await page.getByRole('article', { name: 'Event details' }).getByRole('heading', { name: 'Release 1.0' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Feed' }).getAttribute('aria-current'), 'page');
  await page.evaluate(`window.postMessage({ type: 'panoptes-open-view', view: 'settings' }, '*')`);
  await page.waitForFunction(`location.hash === '#/settings'`);
  assert.equal(await page.getByRole('link', { name: 'Settings' }).getAttribute('aria-current'), 'page');
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.dialogs, []);
  assert.deepEqual(watch.externalRequests, []);
});
