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
import { mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium, ROOT, screenshot, SCREENSHOTS, startAgent, startFeedServer, watchPage, type Agent, type FeedServer, type PageWatch, uiTest as harnessUiTest } from './harness.js';

let agent: Agent;
let feed: FeedServer;
let browser: Browser;
let page: Page;
let watch: PageWatch;
let weather: http.Server;
let weatherOrigin = '';
/** Temperatures the local Open-Meteo stand-in reports, one per request, each 15 minutes after the previous. */
const temperatures = [17.5, 21.4, 19.2];
let weatherRequests = 0;

before(async () => {
  feed = await startFeedServer('Builder Releases');
  // A local stand-in for Open-Meteo's forecast endpoint, answering with a recorded reply whose "current" block
  // is moved to now, so the readings fall inside the dashboard's window.
  const recorded = JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/weather/forecast-clear.json'), 'utf8')) as { current: Record<string, number> };
  weather = http.createServer((req, res) => {
    if (!req.url?.startsWith('/v1/forecast')) return void res.writeHead(404).end();
    const i = weatherRequests++;
    const now = Math.floor(Date.now() / 1000);
    const reply = { ...recorded, current: { ...recorded.current, time: now - (temperatures.length - 1 - Math.min(i, temperatures.length - 1)) * 900, temperature_2m: temperatures[i % temperatures.length]! } };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
  });
  await new Promise<void>((resolve) => weather.listen(0, '127.0.0.1', resolve));
  weatherOrigin = `http://127.0.0.1:${(weather.address() as { port: number }).port}`;
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
  await new Promise<void>((resolve) => (weather ? weather.close(() => resolve()) : resolve()));
});

/**
 * Waits until a page-side expression is true. `page.waitForFunction` compiles its string inside the page, which
 * the agent's CSP (no unsafe-eval) rightly refuses; `page.evaluate` goes through the debugger protocol instead.
 */
async function until(expression: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${expression}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A screenshot of one part of the page (scrolled into view), next to the full-page ones. */
async function screenshotOf(target: Locator, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await target.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

/** Toasts from earlier steps would cover part of the next screenshot. */
async function dismissToasts(): Promise<void> {
  const buttons = page.getByRole('button', { name: 'Dismiss notification' });
  while ((await buttons.count()) > 0) await buttons.first().click();
}

/** A failed step leaves a screenshot of what the page showed, next to the others. */
const uiTest = (name: string, timeout: number, fn: () => Promise<void>) => harnessUiTest(() => page, name, { timeout }, fn);

let n = 0;
function publish(title: string): void {
  n++;
  feed.items.push({ guid: `item-${n}`, title, link: `http://127.0.0.1/items/${n}`, description: `<p>${title}</p>`, pubDate: new Date() });
}

const monitorCard = (name = 'Builder releases') => page.getByRole('listitem', { name: `Monitor ${name}` });

async function checkNow(name: string): Promise<void> {
  await page.getByRole('link', { name: 'Monitors' }).click();
  await monitorCard(name).getByRole('button', { name: 'Check now' }).click();
  await page.getByRole('region', { name: 'Notifications' }).getByText(`Checking “${name}” now`).last().waitFor();
}

/** Ask the RSS monitor to check now (instead of waiting for its schedule) and wait until `title` is in the feed. */
async function checkNowAndWaitFor(title: string): Promise<void> {
  await checkNow('Builder releases');
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
  const leaf = trigger.getByRole('group', { name: 'Condition $.if', exact: true });
  await leaf.getByLabel('Field').fill('title');
  // A broken regular expression: the engine's message appears next to the value it is about.
  await leaf.getByLabel('Operator').selectOption('matches');
  await dismissToasts();
  await leaf.getByLabel('Value').fill('Release (');
  const regexIssue = leaf.locator('[data-path="$.if.matches"]');
  await regexIssue.waitFor();
  assert.match(await regexIssue.innerText(), /\S/);
  assert.equal(await leaf.getByLabel('Value').getAttribute('aria-invalid'), 'true');
  // Said once, at the field: the footer counts it and takes the user there, no banner repeats it.
  await page.getByRole('button', { name: '1 problem to fix' }).waitFor();
  assert.equal(await page.getByRole('alert', { name: 'Problems' }).count(), 0);
  await screenshot(page, 'rule-builder-issue');

  await leaf.getByLabel('Operator').selectOption('contains');
  await leaf.getByLabel('Value').fill('Release');
  await regexIssue.waitFor({ state: 'detached' });

  // Grouping: "or" wraps the condition in an "any" group; removing the second member unwraps it again.
  await trigger.getByRole('button', { name: '+ or…' }).click();
  const second = trigger.getByRole('group', { name: 'Condition $.if.any[1]', exact: true });
  await second.getByLabel('Field').fill('fields.author');
  await second.getByLabel('Operator').selectOption('exists');
  await trigger.getByRole('group', { name: 'Condition $.if.any[0]', exact: true }).getByRole('button', { name: 'Not' }).click();
  await page.getByRole('tab', { name: 'JSON' }).click();
  const grouped = JSON.parse(await page.getByLabel('Rule JSON').inputValue()) as Record<string, unknown>;
  assert.deepEqual(grouped.if, { any: [{ not: { field: 'title', contains: 'Release' } }, { field: 'fields.author', exists: true }] });
  await page.getByRole('tab', { name: 'Form' }).click();
  await trigger.getByRole('button', { name: 'Remove “not”' }).click();
  await trigger.getByRole('button', { name: 'Remove $.if.any[1]' }).click();
  await leaf.waitFor();

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
  await dismissToasts();
  await screenshot(page, 'rule-builder');
  await actions.getByRole('status', { name: 'Preview of Link' }).getByText('http://127.0.0.1/items/').waitFor();
  await actions.getByRole('status', { name: 'Preview of Notification title' }).getByText(/RELEASE/).waitFor();
  await screenshotOf(actions, 'rule-builder-actions');
});

uiTest('testing the rule against history shows its firings and their traces, before saving', 60_000, async () => {
  const panel = page.getByRole('region', { name: 'Test against history' });
  await panel.getByRole('button', { name: 'Test against history' }).click();
  const result = panel.getByRole('region', { name: 'History test result' });
  await result.getByText(/^1 firing$/).waitFor({ timeout: 30_000 });
  await result.getByText(/over 3 events received/).waitFor();
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
  await dismissToasts();
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
  await dismissToasts();
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
  await until(`location.hash === '#/settings'`);
  assert.equal(await page.getByRole('link', { name: 'Settings' }).getAttribute('aria-current'), 'page');
});

uiTest('the dashboard charts the weather’s temperature and Panoptes’ own health, in both themes', 90_000, async () => {
  await page.getByRole('link', { name: 'Monitors' }).click();
  await page.getByRole('button', { name: 'Add monitor' }).click();
  await page.getByRole('button', { name: /Weather/ }).click();
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Home weather');
  await page.getByLabel('Latitude', { exact: true }).fill('52.52');
  await page.getByLabel('Longitude', { exact: true }).fill('13.42');
  await page.getByLabel('Forecast API address').fill(weatherOrigin);
  await page.getByRole('button', { name: 'Add monitor' }).click();
  await monitorCard('Home weather').locator('.status-ok').waitFor({ timeout: 30_000 });
  for (let k = 2; k <= temperatures.length; k++) {
    await checkNow('Home weather');
    await page.getByRole('link', { name: 'Feed' }).click();
    await until(`document.querySelectorAll('[role=listitem][aria-label*="°C"]').length >= ${k}`);
  }

  await page.getByRole('link', { name: 'Monitors' }).click();
  await page.getByRole('button', { name: 'Add monitor' }).click();
  await page.getByRole('button', { name: /System/ }).click();
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('This machine');
  await page.getByRole('button', { name: 'Add monitor' }).click();
  await monitorCard('This machine').locator('.status-ok').waitFor({ timeout: 30_000 });
  await checkNow('This machine');

  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.getByRole('img', { name: /^Temperature for / }).waitFor({ timeout: 15_000 });
  const health = page.getByRole('region', { name: 'Panoptes health' });
  await health.getByRole('img', { name: 'Panoptes memory use' }).waitFor({ timeout: 15_000 });
  assert.match(await health.getByRole('definition').first().innerText(), /\d+ MB/);
  await dismissToasts();
  await screenshot(page, 'dashboard');
  await screenshotOf(health, 'dashboard-health');

  // The charts are canvases: they are drawn again with the dark theme's colours when the theme changes.
  const axisColour = `(() => { const c = document.querySelector('[aria-label^="Temperature for"] canvas'); return c ? c.toDataURL().length : 0; })()`;
  const light = await page.evaluate(axisColour);
  await page.emulateMedia({ colorScheme: 'dark' });
  await until(`(() => { const c = document.querySelector('[aria-label^="Temperature for"] canvas'); return !!c && c.toDataURL().length !== ${light}; })()`);
  await screenshot(page, 'dashboard-dark');
  await page.emulateMedia({ colorScheme: 'light' });
});

uiTest('a rule’s hours and days say whose clock they follow', 30_000, async () => {
  await page.getByRole('link', { name: 'Rules' }).click();
  await page.getByRole('button', { name: 'New rule' }).click();
  const context = page.getByRole('region', { name: 'Context' });
  assert.equal(await context.getByText(/Hours and days are on/).count(), 0, 'no note while the rule has no hours');
  await context.getByRole('group', { name: 'Time of day' }).getByLabel('Between').check();
  // The agent's zone (it inherits this process's environment), not a guess made in the browser.
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  await context.getByText(`Hours and days are on this machine’s clock (${zone}).`).waitFor();
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.dialogs, []);
  assert.deepEqual(watch.externalRequests, []);
});
