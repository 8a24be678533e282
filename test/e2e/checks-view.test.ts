/**
 * The Checks view against the real agent in Debian's Chromium: an HTTP check of a local server that answers and
 * one of a port where nothing listens read like a status board — state, uptime, a response-time sparkline, the
 * reason a check is down.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, screenshot, startAgent, watchPage, type Agent, type PageWatch, uiTest as harnessUiTest } from './harness.js';

let agent: Agent;
let browser: Browser;
let page: Page;
let watch: PageWatch;
let shop: http.Server;

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

before(async () => {
  shop = http.createServer((_req, res) => res.end('shop open'));
  await new Promise<void>((r) => shop.listen(0, '127.0.0.1', r));
  const shopUrl = `http://127.0.0.1:${(shop.address() as net.AddressInfo).port}/`;
  const dead = await closedPort();
  agent = await startAgent((dir) => {
    const check = { interval: '5s', sampleEvery: '1s', retries: 1 };
    writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({
        monitors: [
          { id: 'http:shop', type: 'http', name: 'Shop', config: { url: shopUrl, keyword: 'open', ...check } },
          { id: 'http:backend', type: 'http', name: 'Backend', config: { url: `http://127.0.0.1:${dead}/health`, tags: ['backend'], ...check } },
        ],
      }),
    );
  });
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  watch = watchPage(page);
});

after(async () => {
  await browser?.close();
  await agent?.stop();
  await new Promise((r) => shop?.close(r));
});

const uiTest = (name: string, timeout: number, fn: () => Promise<void>) => harnessUiTest(() => page, name, { timeout }, fn);

uiTest('the Checks view: state, uptime, sparkline and the reason a check is down', 90_000, async () => {
  await page.goto(agent.url);
  await page.getByRole('link', { name: 'Checks' }).click();
  const board = page.getByRole('table', { name: 'Checks' });
  const backend = board.getByRole('row', { name: 'Backend' });
  const shopRow = board.getByRole('row', { name: 'Shop' });
  await backend.getByText('Down', { exact: true }).waitFor({ timeout: 30_000 });
  await shopRow.getByText('Up', { exact: true }).waitFor({ timeout: 30_000 });
  assert.match(await backend.locator('.check-error').innerText(), /^connection refused by 127\.0\.0\.1:\d+/);
  assert.equal(await page.getByLabel('Summary').innerText(), '1 down, 1 up');
  // A second sample draws the sparkline (checks every 5 s here).
  await shopRow.getByRole('img', { name: /^Shop: \d+ samples over the last 24 hours$/ }).waitFor({ timeout: 30_000 });
  const cells = await shopRow.getByRole('cell').allInnerTexts();
  assert.equal(cells[1], '100 %', 'uptime over 24 h');
  assert.equal((await backend.getByRole('cell').allInnerTexts())[1], '0.00 %');
  assert.equal((await board.getByRole('row').nth(1).getAttribute('aria-label')), 'Backend', 'down checks first');
  await screenshot(page, 'checks');

  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.externalRequests, []);
});

/** A datetime-local input's value for a time `ms` from now (the browser runs on this machine, in its zone). */
function localInput(ms: number): string {
  const d = new Date(Date.now() + ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

uiTest('maintenance: a window for a tag shows on the checks carrying it, "maintenance now" on every check, and both end', 90_000, async () => {
  await page.goto(agent.url);
  await page.getByRole('link', { name: 'Checks' }).click();
  const board = page.getByRole('table', { name: 'Checks' });
  const panel = page.getByRole('region', { name: 'Maintenance' });
  await panel.getByText('No scheduled windows.').waitFor();

  // A refused window says why, at the form.
  const form = panel.getByRole('form', { name: 'Add a maintenance window' });
  await form.getByRole('button', { name: 'Add window' }).click();
  await panel.getByRole('alert').filter({ hasText: /name/ }).waitFor();

  await form.getByLabel('Name').fill('Backend deploy');
  await form.getByLabel('Repeats').selectOption('once');
  await form.getByLabel('Starts').fill(localInput(-30 * 60_000));
  await form.getByLabel('Ends').fill(localInput(60 * 60_000));
  await form.getByLabel('Tags (optional)').fill('backend');
  await form.getByRole('button', { name: 'Add window' }).click();
  const item = panel.getByRole('listitem', { name: 'Backend deploy' });
  await item.getByText('Open now').waitFor();
  await item.getByText('tags: backend').waitFor();
  await board.getByRole('row', { name: 'Backend' }).getByText('Maintenance: in maintenance window "Backend deploy"').waitFor();
  assert.equal(await board.getByRole('row', { name: 'Shop' }).locator('.maintenance-note').count(), 0, 'the untagged check is not in maintenance');

  // A weekly one, closed now unless the test runs on a Sunday night.
  await form.getByLabel('Name').fill('Sunday updates');
  await form.getByLabel('Repeats').selectOption('recurring');
  await form.getByRole('group', { name: 'Days' }).getByLabel('Sun').check();
  await form.getByLabel('From').fill('02:00');
  await form.getByLabel('To').fill('04:00');
  await form.getByRole('button', { name: 'Add window' }).click();
  await panel.getByRole('listitem', { name: 'Sunday updates' }).getByText('Sun 02:00–04:00').waitFor();
  await panel.getByRole('listitem', { name: 'Sunday updates' }).getByText('all checks').waitFor();
  await screenshot(page, 'checks-maintenance');

  // Maintenance now: every check, until ended.
  await panel.getByLabel('For').fill('30m');
  await panel.getByRole('button', { name: 'Start maintenance now' }).click();
  await panel.getByText(/^Maintenance on until /).waitFor();
  await board.getByRole('row', { name: 'Shop' }).getByText('Maintenance: the maintenance flag is on').waitFor();
  await panel.getByRole('button', { name: 'End maintenance' }).click();
  await panel.getByRole('button', { name: 'Start maintenance now' }).waitFor();
  await board.getByRole('row', { name: 'Shop' }).locator('.maintenance-note').waitFor({ state: 'detached' });

  await panel.getByRole('button', { name: 'Remove maintenance window Backend deploy' }).click();
  await item.waitFor({ state: 'detached' });
  await board.getByRole('row', { name: 'Backend' }).locator('.maintenance-note').waitFor({ state: 'detached' });

  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.externalRequests, []);
});
