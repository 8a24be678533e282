/**
 * Event time (what the source says) and received time (when Panoptes took the event in) are not mixed: lists are
 * newest-received first and show the received time (the source's own time beside it when it differs), and a
 * rule test takes a range of received time, says how many events it holds, and says why the others fired nothing.
 * A feed's backfill (items published weeks ago, all received now) is where the two differ most.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { Page } from 'playwright-core';
import { BIN } from '../helpers/agent-process.js';
import { type Agent, type FeedServer, type PageWatch, uiTestOn } from './harness.js';
import { ago, startBackfillPage, type BackfillPage } from './backfill-page.js';

let setup: BackfillPage | undefined;
let agent: Agent;
let feed: FeedServer;
let page: Page;
let watch: PageWatch;

before(async () => {
  setup = await startBackfillPage({ guid: 'new-10m', title: 'Ten minutes old', link: 'http://127.0.0.1/3', description: 'x', pubDate: ago(600_000) });
  ({ agent, feed, page, watch } = setup);
});
after(() => setup?.close());

const uiTest = uiTestOn(() => page);

uiTest('History is newest-received first and its time column is the received time, the published time beside it', 90_000, async () => {
  await page.getByRole('listitem', { name: /Ten minutes old/ }).waitFor({ timeout: 30_000 });
  // Received after the others, published before the newest of them.
  await new Promise((r) => setTimeout(r, 1100));
  feed.items.push({ guid: 'late-2h', title: 'Two hours old, received last', link: 'http://127.0.0.1/4', description: 'x', pubDate: ago(2 * 3600_000) });
  await page.getByRole('link', { name: 'Monitors' }).click();
  await page.getByRole('listitem', { name: 'Monitor Backfill' }).getByRole('button', { name: 'Check now' }).click();
  await page.getByRole('link', { name: 'Feed' }).click();
  await page.getByRole('listitem', { name: /Two hours old, received last/ }).waitFor({ timeout: 30_000 });

  await page.getByRole('link', { name: 'History' }).click();
  const table = page.getByRole('table', { name: 'Search results' });
  await table.getByText('Two hours old, received last').waitFor();
  assert.equal((await table.locator('thead th').first().innerText()).trim(), 'Received');
  const rows = table.locator('tbody tr');
  assert.equal(await rows.count(), 4);
  assert.match(await rows.first().innerText(), /Two hours old, received last/);
  // The column's times are in the list's order.
  const shown = await rows.locator('td:first-child > time').evaluateAll((ts) => ts.map((t) => (t as unknown as { dateTime: string }).dateTime));
  assert.equal(shown.length, 4, 'each row says when it was received');
  const times = shown.map((s) => Date.parse(s));
  assert.ok(times.every((t) => !Number.isNaN(t)), `readable times: ${shown.join(' | ')}`);
  for (let i = 1; i < times.length; i++) assert.ok(times[i - 1]! >= times[i]!, `the column must follow the order: ${shown.join(' | ')}`);
  // The backfilled item says when it was published.
  await table.locator('tr', { hasText: 'Forty days old' }).getByText(/published/).waitFor();
});

test('`panoptes events` lists the received time in its order, with the published time of a backfilled item', () => {
  const r = spawnSync(process.execPath, [BIN, 'events', '--data', agent.dataDir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, /Two hours old, received last/);
  const times = lines.map((l) => Date.parse(l.slice(0, 20).replace(' ', 'T')));
  for (let i = 1; i < times.length; i++) assert.ok(times[i - 1]! >= times[i]!, r.stdout);
  assert.match(lines.find((l) => l.includes('Forty days old'))!, /\(published \d{4}-\d\d-\d\d /);
});

uiTest('a rule test counts every event received in its range, backfill included, and says why the others did not fire', 90_000, async () => {
  await page.getByRole('link', { name: 'Rules' }).click();
  await page.getByRole('button', { name: 'New rule' }).click();
  await page.getByRole('tab', { name: 'JSON' }).click();
  const rule = { id: 'old-ones', name: 'Old ones', when: { type: 'feed.item' }, if: { field: 'title', contains: 'days old' }, then: [{ notify: { title: '{{ title }}' } }] };
  await page.getByLabel('Rule JSON').fill(JSON.stringify(rule, null, 2));
  await page.getByText('The engine accepts this rule.').waitFor();
  const panel = page.getByRole('region', { name: 'Test against history' });
  await panel.getByRole('button', { name: 'Test against history' }).click();
  const result = panel.getByRole('region', { name: 'History test result' });
  // Both backfilled "days old" items fire, the forty-day-old one too: it was received now.
  await result.getByText(/^2 firings$/).waitFor({ timeout: 30_000 });
  await result.getByText(/over 4 events received between/).waitFor();
  await result.getByText('Why the other 2 events did not fire').click();
  const misses = result.getByRole('list', { name: 'Events that did not fire' });
  await misses.getByText(/Ten minutes old/).waitFor();
  assert.match(await misses.locator('li', { hasText: 'Ten minutes old' }).innerText(), /title/);
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
});
