// The page picker ("Pick on the page" in the web monitor's form) with Debian's Chromium against local pages: every
// element it offers has a selector that matches it alone (in the browser and in the HTML reader the monitor uses),
// ids, data attributes and stable classes are preferred over made-up class names and positions, a picked selector
// makes the monitor read the text the picker showed; what the address rules refuse, pages too big and pages that
// never load fail with a message.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import * as cheerio from 'cheerio';
import web from '../../monitors/web/index.js';
import { pickFromConfig, pickOnPage } from '../../monitors/web/pick.js';
import { isPrivateAddress, systemAddressPolicy } from '../../base/address-rule.js';
import { PickConfigError } from '../../core/monitor.js';
import type { PagePick } from '../../core/protocol.js';
import { createTestContext } from './web-test-context.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';

const CHROMIUM = process.env.PANOPTES_CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
let server: TestServer;
let publicSite: http.Server;
let publicOrigin = '';

const SHOP = `<!doctype html><html><head><title>Shop</title><style>.promo { display: none }</style></head><body>
<header class="site-header css-1x2y3z"><h1>Greengrocer</h1><nav class="menu"><a href="/a">Fruit</a> <a href="/b">Vegetables</a></nav></header>
<main>
  <ul id="prices"><li>Apples € 1.20</li><li>Pears € 2.50</li><li>Plums € 3.10</li></ul>
  <div class="card sc-bdVaJa"><span data-testid="stock">In stock: 12</span></div>
  <div class="card sc-htpNat"><p class="note jsx-2931">Delivery on Tuesdays</p><p class="note jsx-2931">Closed on Sundays</p></div>
  <section><div><p>Opening hours: 9–18</p></div></section>
  <p class="promo">Hidden offer</p>
  <div id="late"></div>
</main>
<script>document.getElementById('late').textContent = 'Made by a script';</script>
</body></html>`;

before(async () => {
  server = await startTestServer();
  server.route('/shop', (_q, r) => {
    r.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    r.end(SHOP);
  });
  server.route('/secret', (_q, r) => {
    r.writeHead(200, { 'content-type': 'image/png' });
    r.end();
  });
  server.route('/big', (_q, r) => {
    r.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    r.end(`<!doctype html><body>${'<span>x</span>'.repeat(70_000)}</body>`);
  });
  server.route('/hang', (_q, r) => {
    r.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    r.end(`<p>Almost</p><img src="/never">`);
  });
  server.route('/never', () => {});
  // A second site on 127.0.0.2, which the tests' address policy counts as public: the rule a page on the web lives by.
  publicSite = http.createServer((_q, r) => {
    r.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    r.end(`<!doctype html><body><p id="msg">A public page</p><img src="${server.url('/secret')}" alt="inside"></body>`);
  });
  await new Promise<void>((res) => publicSite.listen(0, '127.0.0.2', res));
  publicOrigin = `http://127.0.0.2:${(publicSite.address() as AddressInfo).port}`;
});
after(async () => {
  await server.close();
  await new Promise((r) => publicSite.close(r));
});

const signal = new AbortController().signal;
let shop: PagePick;
const find = (text: string) => {
  const e = shop.elements.filter((x) => x.text === text);
  assert.ok(e.length >= 1, `an element showing "${text}" is offered; offered: ${JSON.stringify(shop.elements.map((x) => x.text).slice(0, 40))}`);
  // The innermost one: the element itself, not a wrapper that shows the same text.
  return e[e.length - 1]!;
};

test('every element offered has a selector matching it alone; ids, data attributes and stable classes first', { skip, timeout: 180_000 }, async () => {
  shop = await pickFromConfig({ url: server.url('/shop') }, signal);
  assert.equal(shop.url, server.url('/shop'));
  assert.ok(Buffer.from(shop.screenshot, 'base64').subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff])), 'a JPEG screenshot');
  assert.equal(shop.width, 1280);
  assert.ok(shop.height > 100 && shop.height === shop.pageHeight);
  assert.equal(shop.complete, true);
  assert.deepEqual(shop.blocked, []);

  const selectors = shop.elements.map((e) => e.selector);
  assert.equal(new Set(selectors).size, selectors.length, 'no two elements share a selector');
  // The monitor reads the page with cheerio: each selector of an element the server sent matches one element there.
  const $ = cheerio.load(SHOP);
  for (const e of shop.elements) {
    if (e.text === 'Made by a script') continue;
    assert.equal($(e.selector).length, 1, `${e.selector} matches one element in the HTML`);
    assert.ok(e.selector.length <= 60, `${e.selector} is short`);
  }

  assert.equal(find('Apples € 1.20\nPears € 2.50\nPlums € 3.10').selector, '#prices');
  assert.equal(find('In stock: 12').selector, 'span[data-testid="stock"]');
  assert.equal(find('Apples € 1.20').selector, '#prices > li:nth-of-type(1)');
  assert.equal(find('Fruit Vegetables').selector, 'nav.menu');
  assert.equal(find('Made by a script').selector, '#late');
  // Class names a build tool made up (css-1x2y3z, sc-…, jsx-2931) are never part of a selector.
  for (const s of selectors) assert.doesNotMatch(s, /css-|sc-|jsx-/, s);
  assert.ok(!shop.elements.some((e) => e.text.includes('Hidden offer')), 'hidden elements are not offered');
  // Boxes lie on the picture, and a parent contains its child.
  for (const e of shop.elements) {
    assert.ok(e.x >= 0 && e.y >= 0 && e.x + e.w <= shop.width + 1 && e.y + e.h <= shop.height + 1, `${e.selector} lies on the screenshot`);
    if (e.parent >= 0) {
      const p = shop.elements[e.parent]!;
      assert.ok(p.x <= e.x + 0.5 && p.y <= e.y + 0.5 && p.x + p.w >= e.x + e.w - 0.5 && p.y + p.h >= e.y + e.h - 0.5, `${p.selector} contains ${e.selector}`);
    }
  }
  const li = find('Pears € 2.50');
  assert.equal(shop.elements[li.parent]!.selector, '#prices', 'widening from an item reaches its list');
});

test('the selector picked makes the monitor read the text the picker showed', { skip, timeout: 120_000 }, async () => {
  for (const text of ['Pears € 2.50', 'In stock: 12', 'Closed on Sundays', 'Opening hours: 9–18']) {
    const { selector } = find(text);
    const t = createTestContext(web, { url: server.url('/shop'), selector });
    await t.instance.start();
    await t.tick();
    assert.deepEqual(t.errors, []);
    assert.deepEqual((t.state.get('baseline') as { lines: string[] }).lines, [text], selector);
    await t.stop();
  }
  // What a script made is there for a rendered check, as for the picker.
  const r = createTestContext(web, { url: server.url('/shop'), selector: find('Made by a script').selector, render: true, timeout: '60s' });
  await r.instance.start();
  await r.tick();
  assert.deepEqual(r.errors, []);
  assert.deepEqual((r.state.get('baseline') as { lines: string[] }).lines, ['Made by a script']);
  await r.stop();
});

test('addresses: only http(s) pages; a public page cannot reach a private address through the picker', { skip, timeout: 120_000 }, async () => {
  for (const url of ['file:///etc/passwd', 'chrome://settings', 'javascript:alert(1)', 'not an address']) {
    await assert.rejects(pickFromConfig({ url }, signal), (err: unknown) => err instanceof PickConfigError && err.path === '$.url' && /http:\/\/ or https:\/\//.test(err.message), url);
  }
  await assert.rejects(pickFromConfig({}, signal), (err: unknown) => err instanceof PickConfigError && err.message === 'enter the page address first');
  await assert.rejects(pickFromConfig({ url: server.url('/shop'), steps: ['press:#x'] }, signal), (err: unknown) => err instanceof PickConfigError && err.path === '$.steps.0');

  const policy = { ...systemAddressPolicy, isPrivateAddress: (a: string) => a !== '127.0.0.2' && isPrivateAddress(a) };
  const pick = await pickFromConfig({ url: publicOrigin + '/' }, signal, policy);
  assert.deepEqual(pick.blocked, [server.url('/secret')], 'the request to the private address was refused and is named');
  assert.ok(!server.requests.some((r) => r.path === '/secret'), 'it never reached the private server');
  assert.ok(pick.elements.some((e) => e.selector === '#msg' && e.text === 'A public page'));
});

test('too big, never loading, no browser: a message each', { skip, timeout: 180_000 }, async () => {
  await assert.rejects(pickOnPage({ url: server.url('/big'), steps: [], timeoutMs: 60_000, signal }), /the page is too big to pick on: it has 70,00\d elements \(at most 60,000\)/);
  await assert.rejects(pickOnPage({ url: server.url('/hang'), steps: [], timeoutMs: 8_000, signal }), /did not finish loading within 8 s/);
  await assert.rejects(pickFromConfig({ url: server.url('/shop'), browserPath: '/nonexistent/chromium' }, signal), /no browser at \/nonexistent\/chromium/);
});
