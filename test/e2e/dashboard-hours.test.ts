/**
 * The dashboard's events per hour count events by when they were received: a feed's backfill (items published
 * weeks ago, all received now) is this hour's events, not last month's. Its legend (and the Feed's grouping by
 * source) names a source by its monitor's name, as the weather chart and History do, not by its id.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { type PageWatch, uiTestOn } from './harness.js';
import { ago, startBackfillPage, type BackfillPage } from './backfill-page.js';

let setup: BackfillPage | undefined;
let page: Page;
let watch: PageWatch;

before(async () => {
  setup = await startBackfillPage({ guid: 'new-3h', title: 'Three hours old', link: 'http://127.0.0.1/3', description: 'x', pubDate: ago(3 * 3600_000) });
  ({ page, watch } = setup);
});
after(() => setup?.close());

const uiTest = uiTestOn(() => page);

/** The events-per-hour chart's legend: each series' name and its value for the latest hour. */
async function legend(): Promise<{ label: string; value: string }[]> {
  const card = page.getByRole('region', { name: 'Events per hour' });
  await card.getByRole('img', { name: /^Events per hour for / }).waitFor({ timeout: 30_000 });
  return card.locator('.u-legend tr.u-series').evaluateAll((rows) =>
    rows.slice(1).map((r) => ({ label: (r.querySelector('.u-label')?.textContent ?? '').trim(), value: (r.querySelector('.u-value')?.textContent ?? '').trim() })),
  );
}

uiTest('a backfill published weeks ago but received now counts in the current hour', 90_000, async () => {
  // All three arrive on the first check (the Feed shows them), published 40 days, 3 days and 3 hours ago.
  const hourBefore = Math.floor(Date.now() / 3600_000);
  await page.getByRole('listitem', { name: /Forty days old/ }).waitFor({ timeout: 30_000 });
  await page.getByRole('listitem', { name: /Three hours old/ }).waitFor();
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.getByRole('heading', { name: /Events per hour received/ }).waitFor();
  // Away from the chart the legend shows the latest hour's count: all three were received this hour.
  const series = await legend();
  assert.equal(series.length, 1, JSON.stringify(series));
  // Should the clock pass the hour between the check and this reading, the three are the previous hour's, correctly.
  if (Math.floor(Date.now() / 3600_000) !== hourBefore) return;
  assert.equal(series[0]!.value, '3', `the backfill counts in the hour it was received: ${JSON.stringify(series)}`);
});

uiTest('the chart and its legend name the source by its monitor’s name', 60_000, async () => {
  const series = await legend();
  assert.deepEqual(series.map((s) => s.label), ['Backfill']);
  await page.getByRole('region', { name: 'Events per hour' }).getByRole('img', { name: 'Events per hour for Backfill' }).waitFor();
});

uiTest('a monitor renamed while the dashboard is open renames its line there, without a reload', 60_000, async () => {
  const file = path.join(setup!.agent.dataDir, 'config.json');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { monitors: { id: string; name: string }[] };
  doc.monitors.find((m) => m.id === 'rss:backfill')!.name = 'Old posts';
  writeFileSync(file, JSON.stringify(doc, null, 2));
  const card = page.getByRole('region', { name: 'Events per hour' });
  try {
    await card.getByRole('img', { name: 'Events per hour for Old posts' }).waitFor({ timeout: 20_000 });
    assert.deepEqual((await legend()).map((s) => s.label), ['Old posts']);
  } finally {
    // The name back for the tests after this one.
    doc.monitors.find((m) => m.id === 'rss:backfill')!.name = 'Backfill';
    writeFileSync(file, JSON.stringify(doc, null, 2));
  }
  await card.getByRole('img', { name: 'Events per hour for Backfill' }).waitFor({ timeout: 20_000 });
});

uiTest('the Feed grouped by source heads each group with its monitor’s name', 60_000, async () => {
  await page.getByRole('link', { name: 'Feed' }).click();
  await page.getByLabel('By source').check();
  const header = page.locator('.feed-group').first();
  await header.waitFor();
  const text = await header.innerText();
  assert.match(text, /Backfill\s*\(3\)/);
  assert.doesNotMatch(text, /rss:backfill/);
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
});
