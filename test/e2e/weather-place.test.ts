/**
 * Weather for a place by its name (issue #17): the monitor form looks the place up, shows what it found (name,
 * country, coordinates), lets the user choose among several matches, and puts "no such place" and "geocoder
 * unreachable" at the Place field like every other field error. The chart's series then carries the place's name.
 * Open-Meteo is stood in for by a local server answering in its documented format (recorded answers).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openAgentPage, openBrowserPage, ROOT, startAgent, type Agent, type PageWatch, uiTestOn } from './harness.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';
import { freePort } from '../helpers/ports.js';

let agent: Agent;
let browser: Browser;
let page: Page;
let watch: PageWatch;
let meteo: TestServer;
const fixture = (name: string) => readFileSync(path.join(ROOT, 'test/fixtures/weather', name), 'utf8');

before(async () => {
  meteo = await startTestServer();
  const recorded = JSON.parse(fixture('forecast-clear.json')) as { current: Record<string, number> };
  meteo.route('/v1/forecast', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...recorded, current: { ...recorded.current, time: Math.floor(Date.now() / 1000) } }));
  });
  meteo.route('/v1/search', (req, res) => {
    const name = new URL(req.url ?? '/', 'http://x').searchParams.get('name') ?? '';
    const file = name === 'Berlin' ? 'geocoding-berlin.json' : name === 'Springfield' ? 'geocoding-springfield.json' : 'geocoding-none.json';
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(fixture(file));
  });
  agent = await startAgent();
  ({ browser, page, watch } = await openBrowserPage());
  await openAgentPage(page, agent);
});

after(async () => {
  await browser?.close();
  await agent?.stop();
  await meteo?.close();
});

const uiTest = uiTestOn(() => page);
const errorAt = (label: string) => page.getByLabel(label, { exact: true }).first().locator('xpath=ancestor::div[contains(concat(" ", @class, " "), " field ")][1]/div[contains(concat(" ", @class, " "), " error ")]');
const monitors = () => (JSON.parse(readFileSync(path.join(agent.dataDir, 'config.json'), 'utf8')) as { monitors: { name: string; type: string; config: Record<string, unknown> }[] }).monitors.filter((m) => m.type === 'weather');

async function openForm(name: string, place: string, geocoder = meteo.origin): Promise<void> {
  // Through another view: a hash change alone does not reopen the add form of a view already showing one.
  await page.goto(`${agent.origin}/#/feed`);
  await page.goto(`${agent.origin}/#/monitors?add=weather`);
  await page.getByLabel('Place', { exact: true }).waitFor({ timeout: 15_000 });
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Place', { exact: true }).fill(place);
  await page.getByLabel('Forecast API address').fill(meteo.origin);
  await page.getByLabel('Geocoding API address').fill(geocoder);
}

uiTest('a place typed by name is found, shown with its country and coordinates, and its name names the chart', 90_000, async () => {
  await openForm('Home', 'Berlin');
  await page.getByRole('button', { name: 'Find place' }).click();
  const found = page.getByRole('group', { name: 'Places found' });
  await found.waitFor({ timeout: 15_000 });
  const text = await found.innerText();
  assert.match(text, /Berlin, Land Berlin, Germany/);
  assert.match(text, /52\.52/);
  assert.match(text, /13\.41/);
  assert.equal(await page.getByLabel('Latitude', { exact: true }).inputValue(), '52.52437');
  await page.getByRole('button', { name: 'Add monitor' }).click();
  await page.getByRole('listitem', { name: 'Monitor Home' }).waitFor({ timeout: 15_000 });
  const saved = monitors().find((m) => m.name === 'Home')!;
  assert.equal(saved.config.place, 'Berlin, Land Berlin, Germany');
  assert.equal(saved.config.latitude, 52.52437);
  assert.equal(saved.config.longitude, 13.41053);

  await page.goto(`${agent.origin}/#/dashboard`);
  const chart = page.getByRole('img', { name: /^Temperature for / });
  await chart.waitFor({ timeout: 30_000 });
  assert.equal(await chart.getAttribute('aria-label'), 'Temperature for Berlin, Land Berlin, Germany');
});

uiTest('several places of that name: the user chooses one, and saving without a lookup finds them first', 60_000, async () => {
  await openForm('Family', 'Springfield');
  // No "Find place": saving looks the name up, and with several matches asks which one instead of guessing.
  await page.getByRole('button', { name: 'Add monitor' }).click();
  const found = page.getByRole('group', { name: 'Places found' });
  await found.waitFor({ timeout: 15_000 });
  assert.equal(await found.getByRole('radio').count(), 3);
  assert.equal(monitors().filter((m) => m.name === 'Family').length, 0, 'not saved while the place is not chosen');
  await found.getByRole('radio', { name: /Missouri/ }).check();
  assert.equal(await page.getByLabel('Latitude', { exact: true }).inputValue(), '37.21533');
  await page.getByRole('button', { name: 'Add monitor' }).click();
  await page.getByRole('listitem', { name: 'Monitor Family' }).waitFor({ timeout: 15_000 });
  const saved = monitors().find((m) => m.name === 'Family')!;
  assert.equal(saved.config.place, 'Springfield, Missouri, United States');
  assert.equal(saved.config.latitude, 37.21533);
  assert.equal(saved.config.longitude, -93.29824);
});

uiTest('no such place and an unreachable geocoder are told at the Place field, nothing is saved', 60_000, async () => {
  await openForm('Nowhere', 'Atlantis');
  await page.getByRole('button', { name: 'Add monitor' }).click();
  await errorAt('Place').waitFor({ timeout: 15_000 });
  assert.match(await errorAt('Place').innerText(), /no place called “Atlantis”/i);
  assert.equal(await page.locator('form .error-box').count(), 0, 'at the field, not in a banner');

  const closed = `http://127.0.0.1:${await freePort()}`;
  await openForm('Offline', 'Berlin', closed);
  await page.getByRole('button', { name: 'Find place' }).click();
  await errorAt('Place').waitFor({ timeout: 15_000 });
  assert.match(await errorAt('Place').innerText(), /could not reach the place finder.*connection refused/i);
  assert.equal(await page.locator('form .error-box').count(), 0);
  assert.deepEqual(monitors().filter((m) => ['Nowhere', 'Offline'].includes(m.name)), []);
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.dialogs, []);
});
