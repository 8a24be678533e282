/// <reference lib="dom" />
// (callbacks below run in the browser through page.evaluate; the project itself compiles without the DOM types)
/**
 * Counts and labels the UI shows are true (issue #17): "Mark all read (N)" counts and marks what the active filter
 * shows; the feed's source filter names monitors as History does; an event type two monitor kinds share is listed
 * once; no two elements share an id; the dashboard's legends show values before any hover, its small charts' time
 * axes stay within the day they show, the store's numbers are shown; a weather series given by coordinates is named
 * by its monitor, not "52.52, 13.42".
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openAgentPage, openBrowserPage, ROOT, startAgent, type Agent, type PageWatch, uiTestOn } from './harness.js';
import { connectProtocol, type ProtocolClient } from '../helpers/protocol-client.js';

let agent: Agent;
let browser: Browser;
let page: Page;
let watch: PageWatch;
let client: ProtocolClient;
let weather: http.Server;
let weatherOrigin = '';
const SECRET = 'a-long-enough-hook-secret';

before(async () => {
  const recorded = JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/weather/forecast-clear.json'), 'utf8')) as { current: Record<string, number> };
  weather = http.createServer((req, res) => {
    if (!req.url?.startsWith('/v1/forecast')) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...recorded, current: { ...recorded.current, time: Math.floor(Date.now() / 1000) } }));
  });
  await new Promise<void>((resolve) => weather.listen(0, '127.0.0.1', resolve));
  weatherOrigin = `http://127.0.0.1:${(weather.address() as { port: number }).port}`;
  agent = await startAgent();
  client = await connectProtocol({ port: Number(new URL(agent.origin).port), token: agent.token });
  ({ browser, page, watch } = await openBrowserPage());
  await openAgentPage(page, agent);
});

after(async () => {
  client?.close();
  await browser?.close();
  await agent?.stop();
  await new Promise<void>((resolve) => (weather ? weather.close(() => resolve()) : resolve()));
});

const uiTest = uiTestOn(() => page);

async function until(expression: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${expression}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const post = (hook: string, title: string) =>
  fetch(`${agent.origin}/hooks/${hook}`, { method: 'POST', headers: { 'x-panoptes-secret': SECRET, 'content-type': 'application/json' }, body: JSON.stringify({ title }) });

uiTest('Mark all read counts and marks what the filter shows; the source filter names monitors', 120_000, async () => {
  await client.call('monitors.add', { type: 'webhook', name: 'Deploys', id: 'webhook:deploys', config: { hookId: 'deploys', secret: SECRET } });
  await client.call('monitors.add', { type: 'webhook', name: 'Alerts', id: 'webhook:alerts', config: { hookId: 'alerts', secret: SECRET } });
  for (let i = 1; i <= 3; i++) assert.equal((await post('deploys', `Deploy ${i}`)).status, 200);
  for (let i = 1; i <= 2; i++) assert.equal((await post('alerts', `Alert ${i}`)).status, 200);
  await page.getByRole('link', { name: 'Feed' }).click();
  await until(`document.querySelectorAll('.feed-row').length >= 5`);

  const source = page.getByRole('toolbar', { name: 'Feed filters' }).getByLabel('Source', { exact: true });
  const labels = await source.locator('option').allInnerTexts();
  assert.ok(labels.includes('Alerts') && labels.includes('Deploys'), `the source filter names monitors: ${labels.join(' | ')}`);
  assert.ok(!labels.some((l) => l.startsWith('webhook:')), `no ids in the source filter: ${labels.join(' | ')}`);
  await source.selectOption({ label: 'Alerts' });
  const markAll = page.getByRole('button', { name: /^Mark all read/ });
  assert.equal(await markAll.innerText(), 'Mark all read (2)', 'the count is of what the filter shows');
  await markAll.click();
  await source.selectOption({ label: 'All sources' });
  await until(`document.querySelectorAll('.feed-row.unread').length === 3`);
  assert.equal(await markAll.innerText(), 'Mark all read (3)', 'the deploys the filter hid are still unread');
});

uiTest('an event type two monitor kinds share is listed once in the rule builder', 60_000, async () => {
  await page.goto(`${agent.origin}/#/rules`);
  await page.getByRole('button', { name: /New rule/ }).first().click();
  const type = page.getByLabel('Event type', { exact: true });
  // The list fills when the monitor types have answered (a loaded machine can be slower than the first read).
  await type.locator('option[value="social.post"]').first().waitFor({ state: 'attached', timeout: 15_000 });
  const values = await type.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  const twice = values.filter((v, i) => v && values.indexOf(v) !== i);
  assert.deepEqual([...new Set(twice)], [], 'each event type once');
  assert.ok(values.includes('social.post'));
});

const duplicateIds = `(() => { const seen = new Map(); for (const el of document.querySelectorAll('[id]')) seen.set(el.id, (seen.get(el.id) ?? 0) + 1); return [...seen].filter(([, n]) => n > 1).map(([id]) => id); })()`;

uiTest('no two elements share an id, in any view', 90_000, async () => {
  const found: string[] = [];
  for (const view of ['feed', 'history', 'monitors', 'rules', 'notifications', 'flags', 'checks', 'dashboard', 'settings']) {
    await page.goto(`${agent.origin}/#/${view}`);
    await page.locator('.conn-open').waitFor({ timeout: 15_000 });
    await page.waitForTimeout(300); // let the view's queries answer (what is checked is what it then shows)
    for (const id of (await page.evaluate(duplicateIds)) as string[]) found.push(`${view}: #${id}`);
  }
  await page.goto(`${agent.origin}/#/rules`);
  await page.getByRole('button', { name: /New rule/ }).first().click();
  await page.getByLabel('Event type', { exact: true }).waitFor();
  for (const id of (await page.evaluate(duplicateIds)) as string[]) found.push(`rule editor: #${id}`);
  await page.goto(`${agent.origin}/#/monitors?add=weather`);
  await page.getByLabel('Place', { exact: true }).waitFor();
  for (const id of (await page.evaluate(duplicateIds)) as string[]) found.push(`monitor form: #${id}`);
  assert.deepEqual(found, []);
});

uiTest('the dashboard: legends with values, axes within the day, the store’s numbers, a weather series named by its monitor', 120_000, async () => {
  await client.call('monitors.add', { type: 'weather', name: 'Home weather', config: { latitude: 52.52, longitude: 13.42, baseUrl: weatherOrigin } });
  await client.call('monitors.add', { type: 'system', name: 'This machine', config: {} });
  await page.goto(`${agent.origin}/#/dashboard`);
  const health = page.getByRole('region', { name: 'Panoptes health' });
  await health.getByRole('img', { name: 'Panoptes memory use' }).waitFor({ timeout: 30_000 });
  await page.getByRole('img', { name: /^Temperature for / }).waitFor({ timeout: 30_000 });

  assert.equal(await page.getByRole('img', { name: /^Temperature for / }).getAttribute('aria-label'), 'Temperature for Home weather');
  const legend = await page.locator('.u-legend').allInnerTexts();
  assert.ok(legend.length >= 3, 'legends are shown');
  assert.ok(!legend.some((l) => /--/.test(l)), `legends show values before any hover: ${legend.join(' | ')}`);
  const axisText = await page.locator('.u-axis').allInnerTexts();
  assert.ok(!axisText.some((t) => /20\d\d/.test(t)), `time axes of a day show no years: ${axisText.join(' | ')}`);
  const dl = await health.getByRole('definition').allInnerTexts();
  assert.ok(!dl.includes('—'), `every health number is shown: ${dl.join(' | ')}`);
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.dialogs, []);
});
