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
          { id: 'http:backend', type: 'http', name: 'Backend', config: { url: `http://127.0.0.1:${dead}/health`, ...check } },
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
