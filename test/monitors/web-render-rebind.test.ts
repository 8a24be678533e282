// DNS rebinding against the rendered fetch, in Debian's Chromium: a name that answers a public address when
// Panoptes checks it and a private one when the browser asks again must not let the browser into this machine —
// neither for one of the page's requests (image, fetch, WebSocket, HTTPS through CONNECT) nor for the watched page.
//
// The setting, on one machine: the test server listens on 127.0.0.1 and 127.0.0.2, and the tests' address policy
// (base/address-rule.ts) counts 127.0.0.2 as public, as a site on the web would be. For Panoptes, names
// under .public.test and .rebind.test resolve to 127.0.0.2. The browser is started through a wrapper whose own
// resolver answers the .rebind.test names with 127.0.0.1 (--host-resolver-rules): what a rebinding DNS server
// (short TTL, a second answer) gives a browser that resolves again after our check. Whatever arrives at 127.0.0.1
// from such a page is a leak.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { noChromium as skip, startPublicAddress, type PublicAddress } from '../helpers/public-address.js';

let site: PublicAddress;
let port = 0;
let tlsPort = 0;
/** "<address it arrived at> <Host header> <path>", and "<address> tls" for each connection to the HTTPS port. */
let seen: string[] = [];

const page = () => `<!doctype html><html><body><p id="t">Watched page</p>
  <img src="http://img.rebind.test:${port}/leak/rebind-img">
  <script>
    const ws = new Promise((done) => {
      try {
        const s = new WebSocket('ws://ws.rebind.test:${port}/leak/rebind-ws');
        s.onopen = s.onerror = s.onclose = () => done();
      } catch { done(); }
    });
    Promise.allSettled([
      fetch('http://fetch.rebind.test:${port}/leak/rebind-fetch'),
      fetch('https://tls.rebind.test:${tlsPort}/leak/rebind-https'),
      ws,
      fetch('/allowed').then((r) => r.text()).then((t) => { document.getElementById('t').textContent += ' ' + t; }),
    ]).then(() => { const d = document.createElement('p'); d.id = 'done'; d.textContent = 'done'; document.body.append(d); });
  </script></body></html>`;

const respond = (p: string, res: http.ServerResponse) => {
  if (p === '/page') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page());
  } else if (p === '/allowed') {
    res.writeHead(200, { 'content-type': 'text/plain', 'access-control-allow-origin': '*' });
    res.end('and its own request');
  } else {
    res.writeHead(200, { 'content-type': 'text/html', 'access-control-allow-origin': '*' });
    res.end('<p>internal</p>');
  }
};

before(async () => {
  site = await startPublicAddress({
    respond,
    publicSuffixes: ['.public.test', '.rebind.test'],
    browserRules: 'MAP *.rebind.test 127.0.0.1, MAP *.public.test 127.0.0.2',
    tls: true,
  });
  ({ port, tlsPort, seen } = site);
});
after(() => site.close());

test('a name that turns private after the check: the page\'s image, fetch, WebSocket and HTTPS never reach this machine', { skip, timeout: 180_000 }, async () => {
  seen.length = 0;
  const t = await site.render(`http://www.public.test:${port}/page`, { steps: ['wait:#done'] });
  assert.deepEqual(t.errors, []);
  assert.deepEqual(t.versions, ['Watched page and its own request'], 'the page and its own requests work');
  const leaks = seen.filter((s) => s.startsWith('127.0.0.1 '));
  assert.deepEqual(leaks, [], 'nothing from a public page may reach loopback');
  // …because each went to the address Panoptes checked, not to the browser's answer.
  for (const arrival of ['127.0.0.2 img.rebind.test /leak/rebind-img', '127.0.0.2 fetch.rebind.test /leak/rebind-fetch', '127.0.0.2 ws.rebind.test /leak/rebind-ws (websocket)', '127.0.0.2 tls']) {
    assert.ok(seen.includes(arrival), `${arrival}: ${seen.join(', ')}`);
  }
});

test('the watched page\'s own name turning private after the check: not loaded from this machine', { skip, timeout: 180_000 }, async () => {
  seen.length = 0;
  const t = await site.render(`http://www.rebind.test:${port}/page`);
  assert.deepEqual(seen.filter((s) => s.startsWith('127.0.0.1 ')), [], 'the page was loaded from loopback');
  assert.ok(seen.includes('127.0.0.2 www.rebind.test /page'), seen.join('\n'));
});
