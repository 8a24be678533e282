/**
 * The first-run guide's other starters end in a working monitor, not only an open form: "Weather for a place"
 * (against a local stand-in for Open-Meteo) records a reading the dashboard charts under the place's name, and
 * "A log file" follows a file whose new line appears in the Feed. Each starts from an empty data folder, where the
 * guide shows.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openAgentPage, openBrowserPage, ROOT, startAgent, type Agent, type PageWatch, uiTestOn } from './harness.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';

let browser: Browser;
let page: Page;
let watch: PageWatch;
let meteo: TestServer;
let tmp: string;
const agents: Agent[] = [];
const fixture = (name: string) => readFileSync(path.join(ROOT, 'test/fixtures/weather', name), 'utf8');

before(async () => {
  meteo = await startTestServer();
  const recorded = JSON.parse(fixture('forecast-clear.json')) as { current: Record<string, number> };
  meteo.route('/v1/forecast', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...recorded, current: { ...recorded.current, time: Math.floor(Date.now() / 1000) } }));
  });
  meteo.route('/v1/search', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(fixture('geocoding-berlin.json'));
  });
  tmp = mkdtempSync(path.join(os.tmpdir(), 'panoptes-starters-'));
  ({ browser, page, watch } = await openBrowserPage({ viewport: { width: 1280, height: 900 } }));
});

after(async () => {
  await browser?.close();
  for (const a of agents) await a.stop();
  await meteo?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const uiTest = uiTestOn(() => page);

/** A fresh agent (empty data folder) open in the page, on its first-run guide. */
async function freshGuide() {
  const agent = await startAgent();
  agents.push(agent);
  await openAgentPage(page, agent);
  const guide = page.getByRole('region', { name: 'Get started' });
  await guide.waitFor({ timeout: 15_000 });
  return guide;
}

uiTest('“Weather for a place” ends in a monitor whose reading the dashboard charts under the place’s name', 120_000, async () => {
  const guide = await freshGuide();
  await guide.getByRole('button', { name: 'Weather for a place' }).click();
  await page.getByLabel('Place', { exact: true }).waitFor({ timeout: 15_000 });
  await page.getByLabel('Name').fill('Home weather');
  await page.getByLabel('Place', { exact: true }).fill('Berlin');
  await page.getByLabel('Forecast API address').fill(meteo.origin);
  await page.getByLabel('Geocoding API address').fill(meteo.origin);
  await page.getByRole('button', { name: 'Find place' }).click();
  await page.getByRole('group', { name: 'Places found' }).waitFor({ timeout: 15_000 });
  await page.getByRole('button', { name: 'Add monitor' }).click();
  const card = page.getByRole('listitem', { name: 'Monitor Home weather' });
  await card.locator('.status-ok').waitFor({ timeout: 30_000 });
  await page.getByRole('link', { name: 'Dashboard' }).click();
  const chart = page.getByRole('img', { name: /^Temperature for / });
  await chart.waitFor({ timeout: 30_000 });
  assert.equal(await chart.getAttribute('aria-label'), 'Temperature for Berlin, Land Berlin, Germany');
});

uiTest('“A log file” ends in a monitor following the file: a line appended to it appears in the Feed', 120_000, async () => {
  const file = path.join(tmp, 'app.log');
  writeFileSync(file, 'written before the monitor: not news\n');
  const guide = await freshGuide();
  await guide.getByRole('button', { name: 'A log file' }).click();
  await page.getByRole('textbox', { name: /^Log file/ }).waitFor({ timeout: 15_000 });
  await page.getByLabel('Name').fill('App log');
  await page.getByRole('textbox', { name: /^Log file/ }).fill(file);
  await page.getByRole('button', { name: 'Add monitor' }).click();
  const card = page.getByRole('listitem', { name: 'Monitor App log' });
  await card.locator('.status-ok').waitFor({ timeout: 30_000 });
  await page.getByRole('link', { name: 'Feed' }).click();
  // Following from the end once it runs: append until a line shows (the first may land before the tailer's start).
  const deadline = Date.now() + 60_000;
  for (let n = 1; ; n++) {
    appendFileSync(file, `ERROR payment ${n} failed\n`);
    const shown = await page
      .getByRole('listitem', { name: /ERROR payment \d+ failed/ })
      .first()
      .waitFor({ timeout: 5_000 })
      .then(() => true, () => false);
    if (shown) break;
    assert.ok(Date.now() < deadline, 'no appended line reached the Feed');
  }
  assert.equal(await page.getByRole('listitem', { name: /not news/ }).count(), 0, 'what the file held before is not news');
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
});
