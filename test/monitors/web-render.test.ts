// The web monitor's rendered fetch with Debian's Chromium (/usr/bin/chromium, driven by playwright-core): a page
// that builds its content with JavaScript (only the rendered fetch sees it), one behind a cookie wall (steps), one
// that never finishes loading, no browser at all; and which addresses a rendered page may reach.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import web, { webConfigSchema } from '../../monitors/web/index.js';
import { isPrivateHost, parseStep } from '../../monitors/web/render.js';
import { createTestContext } from './web-test-context.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';

const CHROMIUM = process.env.PANOPTES_CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
let server: TestServer;
let price = '42.00';

before(async () => {
  server = await startTestServer();
  const html = (body: string) => (_q: unknown, r: import('node:http').ServerResponse) => {
    r.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    r.end(`<!doctype html><html><body>${body}</body></html>`);
  };
  server.route('/app', (q, r) =>
    html(`<div id="app">Loading…</div><script>setTimeout(() => { document.getElementById('app').innerHTML = '<p class="price">Price: ${price}</p>'; }, 100);</script>`)(q, r),
  );
  server.route(
    '/wall',
    html(`<div id="wall">We use cookies. <button id="accept" onclick="document.getElementById('wall').remove(); setTimeout(() => { const d = document.createElement('div'); d.id = 'content'; d.textContent = 'Member prices: 9.99'; document.body.append(d); }, 200)">Accept</button></div>
      <input id="q"><script>document.getElementById('q').addEventListener('input', (e) => { document.title = e.target.value; });</script>`),
  );
  server.route('/hang', html(`<p>Almost there</p><img src="/never">`));
  server.route('/never', () => {
    /* never answers: the page's load event never fires */
  });
});
after(() => server.close());

const versionsOf = () => {
  const kept: Array<{ text: string; screenshot: Buffer | null }> = [];
  return { kept, versions: { add: (text: string, o?: { screenshot?: Buffer | null }) => (kept.push({ text, screenshot: o?.screenshot ?? null }), { id: kept.length, created: true }) } };
};

test('a page built by JavaScript: the plain fetch sees "Loading…", the rendered one the price, and a screenshot is kept with the version', { skip, timeout: 180_000 }, async () => {
  const plain = createTestContext(web, { url: server.url('/app'), selector: '.price' });
  await plain.instance.start();
  await plain.tick();
  assert.match(plain.errors[0] ?? '', /matched nothing/);
  await plain.stop();

  const v = versionsOf();
  const t = createTestContext(web, { url: server.url('/app'), selector: '.price', render: true, timeout: '60s' }, { extra: { versions: v.versions } });
  await t.instance.start();
  await t.tick();
  assert.deepEqual(t.errors, []);
  assert.equal(v.kept[0]!.text, 'Price: 42.00');
  assert.ok(v.kept[0]!.screenshot && v.kept[0]!.screenshot.subarray(1, 4).toString() === 'PNG', 'a PNG screenshot with the version');
  price = '39.90';
  await t.tick();
  assert.equal(t.events.length, 1);
  assert.deepEqual(t.events[0]!.fields!.diff, { added: ['Price: 39.90'], removed: ['Price: 42.00'] });
  await t.stop();
});

test('steps: type into a field, accept the cookie wall, wait for the content', { skip, timeout: 180_000 }, async () => {
  const v = versionsOf();
  const t = createTestContext(
    web,
    { url: server.url('/wall'), render: true, steps: ['type:#q=laptops', 'click:#accept', 'wait:#content'], selector: '#content', timeout: '60s' },
    { extra: { versions: v.versions } },
  );
  await t.instance.start();
  await t.tick();
  assert.deepEqual(t.errors, []);
  assert.equal(v.kept[0]!.text, 'Member prices: 9.99');
  await t.stop();

  const wrong = createTestContext(web, { url: server.url('/wall'), render: true, steps: ['click:#no-such-button'], timeout: '15s' });
  await wrong.instance.start();
  await wrong.tick();
  assert.match(wrong.errors[0] ?? '', /^step 1 \(click:#no-such-button\): not done within the check's timeout \(15 s\); is the selector right\?; the last version is kept$/);
  await wrong.stop();
});

test('a page that never finishes loading fails within the timeout; no browser is a clear message', { skip, timeout: 180_000 }, async () => {
  const t = createTestContext(web, { url: server.url('/hang'), render: true, timeout: '15s' });
  await t.instance.start();
  await t.tick();
  assert.match(t.errors[0] ?? '', /did not finish loading within 15 s \(the check's timeout\); the last version is kept/);
  await t.stop();

  const none = createTestContext(web, { url: server.url('/app'), render: true, browserPath: '/nonexistent/chromium' });
  await none.instance.start();
  await none.tick();
  assert.match(none.errors[0] ?? '', /no browser at \/nonexistent\/chromium/);
  await none.stop();
});

test('steps are checked at the field; a rendered page on a public address may not reach loopback or private addresses', async () => {
  const bad = webConfigSchema.safeParse({ url: 'http://example.com', steps: ['press:#x', 'type:#q', 'wait:120s'] });
  assert.equal(bad.success, false);
  assert.deepEqual(bad.error!.issues.map((i) => i.path.join('.')), ['steps.0', 'steps.1', 'steps.2']);
  assert.deepEqual(parseStep('wait:1.5s'), { kind: 'sleep', ms: 1500 });
  for (const h of ['127.0.0.1', 'localhost', '10.1.2.3', '192.168.0.1', '172.20.0.1', '169.254.169.254', '[::1]', 'fd00::1', '::ffff:127.0.0.1', '[::ffff:7f00:1]', '0:0:0:0:0:ffff:a00:1', 'FE80::1', '0.0.0.0']) {
    assert.equal(await isPrivateHost(h), true, h);
  }
  for (const h of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '[::ffff:8.8.8.8]']) assert.equal(await isPrivateHost(h), false, h);
});
