/// <reference lib="dom" />
// (callbacks below run in the browser through page.evaluate; the project itself compiles without the DOM types)
/**
 * "Pick on the page" in Debian's Chromium against the real agent: the web monitor's form opens the page as a
 * picture, the pointer highlights the element under it, a click picks it (↑ widens, ↓ narrows back), "Use this" fills
 * the CSS selector, "Test now" shows that element's text, and the saved monitor's first check keeps it. The page's
 * HTML never reaches the UI: its markup-looking text stays text, and the UI makes no request to the page's server.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { connectProtocol, type ProtocolClient } from '../helpers/protocol-client.js';
import { launchChromium, openAgentPage, screenshot, startAgent, watchPage, type Agent, type PageWatch, uiTestOn } from './harness.js';

let agent: Agent;
let browser: Browser;
let page: Page;
let watch: PageWatch;
let shop: http.Server;
let shopUrl = '';
let protocol: ProtocolClient;
const shopRequests: string[] = [];
/** Requests of the UI's page to the watched page's server: there must be none. */
const uiToShop: string[] = [];

const SHOP = `<!doctype html><html><head><title>Greengrocer</title><style>
  body { font: 18px sans-serif; margin: 24px; } li { padding: 10px; } .hero { background: #e6f4ea; padding: 16px; }
</style></head><body>
<div class="hero"><h1>Greengrocer</h1><p>Fresh every morning</p></div>
<ul class="prices"><li>Apples € 1.20</li><li>Pears € 2.50</li><li>Plums € 3.10</li></ul>
<p class="note">&lt;img src=x onerror=alert(1)&gt; stays text</p>
</body></html>`;

before(async () => {
  shop = http.createServer((req, res) => {
    shopRequests.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(SHOP);
  });
  await new Promise<void>((r) => shop.listen(0, '127.0.0.1', r));
  shopUrl = `http://127.0.0.1:${(shop.address() as net.AddressInfo).port}/shop`;
  agent = await startAgent();
  protocol = await connectProtocol({ port: Number(new URL(agent.origin).port), token: agent.token });
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  watch = watchPage(page);
  page.on('request', (r) => {
    if (r.url().startsWith(new URL(shopUrl).origin)) uiToShop.push(r.url());
  });
});

after(async () => {
  protocol?.close();
  await browser?.close();
  await agent?.stop();
  await new Promise((r) => shop?.close(r));
});

const uiTest = uiTestOn(() => page);

/** Where an element of the shop page lies, as a share of the page (the picker's picture is the page scaled). */
async function placeOnShop(text: string): Promise<{ x: number; y: number }> {
  const p = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  try {
    await p.goto(shopUrl);
    const box = (await p.getByText(text, { exact: true }).boundingBox())!;
    const size = await p.evaluate(() => ({ w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight }));
    return { x: (box.x + box.width / 2) / size.w, y: (box.y + box.height / 2) / size.h };
  } finally {
    await p.close();
  }
}

uiTest('pick an element on the page, use it, test it, save it: the first check keeps its text', 240_000, async () => {
  await openAgentPage(page, agent);
  await page.getByRole('link', { name: 'Monitors' }).click();
  await page.getByRole('button', { name: 'Add monitor' }).click();
  await page.getByRole('button', { name: /Web page change/ }).click();
  await page.getByLabel('Name').fill('Pears');
  await page.getByLabel('Page address').fill(shopUrl);
  await page.getByRole('button', { name: 'Pick on the page' }).click();

  const picker = page.getByRole('region', { name: 'Pick on the page' });
  const stage = picker.getByRole('application', { name: /Screenshot of the page/ });
  await stage.waitFor({ timeout: 90_000 });
  await page.waitForFunction(`(() => { const i = document.querySelector('.page-picker-stage img'); return !!i && i.complete && i.naturalWidth > 0; })()`);
  const target = await placeOnShop('Pears € 2.50');
  const stageBox = (await stage.boundingBox())!;
  const at = { x: target.x * stageBox.width, y: target.y * stageBox.height };

  // The pointer highlights what is under it; a click picks it.
  await stage.hover({ position: at });
  await stage.locator('.pick-box.hover').waitFor();
  await stage.click({ position: at });
  const choice = page.getByLabel('Picked element');
  const selector = choice.getByLabel('Selector');
  await selector.waitFor();
  assert.equal(await selector.innerText(), 'ul.prices > li:nth-of-type(2)');
  assert.equal(await choice.getByLabel('Text it matches now').innerText(), 'Pears € 2.50');

  // ↑ widens to the list, ↓ narrows back to the item under the pointer.
  await page.keyboard.press('ArrowUp');
  assert.equal(await selector.innerText(), 'ul.prices');
  assert.equal(await choice.getByLabel('Text it matches now').innerText(), 'Apples € 1.20\nPears € 2.50\nPlums € 3.10');
  await page.keyboard.press('ArrowDown');
  assert.equal(await selector.innerText(), 'ul.prices > li:nth-of-type(2)');
  await stage.hover({ position: { x: at.x, y: at.y - stageBox.height * 0.2 } });
  await screenshot(page, 'web-pick');

  // Markup in the page's text is text in the picker too: nothing of it became an element.
  await stage.click({ position: await placeOnShop('<img src=x onerror=alert(1)> stays text').then((p) => ({ x: p.x * stageBox.width, y: p.y * stageBox.height })) });
  assert.equal(await choice.getByLabel('Text it matches now').innerText(), '<img src=x onerror=alert(1)> stays text');
  assert.equal(await picker.locator('img').count(), 1, 'the screenshot is the only image');
  await stage.click({ position: at });
  assert.equal(await selector.innerText(), 'ul.prices > li:nth-of-type(2)');

  await choice.getByRole('button', { name: 'Use this' }).click();
  await picker.waitFor({ state: 'detached' });
  assert.equal(await page.getByLabel('CSS selector').inputValue(), 'ul.prices > li:nth-of-type(2)');

  await page.getByRole('button', { name: 'Test now' }).click();
  const result = page.getByRole('region', { name: 'Test result' });
  await result.getByText(/Pears € 2\.50/).waitFor({ timeout: 60_000 });
  assert.match(await result.innerText(), /\+1 line — Pears € 2\.50/);

  await page.getByRole('button', { name: 'Add monitor' }).click();
  await page.getByRole('listitem', { name: 'Monitor Pears' }).waitFor({ timeout: 30_000 });
  const monitors = await protocol.call<Array<{ id: string; name: string; config: { selector?: string } }>>('monitors.list', {});
  const saved = monitors.find((m) => m.name === 'Pears')!;
  assert.equal(saved.config.selector, 'ul.prices > li:nth-of-type(2)');
  // The first check keeps the page's first version: the text of the element picked.
  const deadline = Date.now() + 60_000;
  let versions: Array<{ id: number }> = [];
  while (Date.now() < deadline && !versions.length) {
    ({ versions } = await protocol.call<{ versions: Array<{ id: number }> }>('versions.list', { monitorId: saved.id }));
    if (!versions.length) await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(versions.length, 1, 'the first check kept a version within a minute');
  const first = await protocol.call<{ text: string }>('versions.get', { id: versions[0]!.id });
  assert.equal(first.text, 'Pears € 2.50');

  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.dialogs, []);
  assert.deepEqual(watch.externalRequests, []);
  assert.deepEqual(uiToShop, [], 'the UI never loaded anything from the watched page');
  assert.ok(shopRequests.length >= 3, 'the engine did (picker, test, check)');
});
