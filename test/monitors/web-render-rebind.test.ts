// DNS rebinding against the rendered fetch, in Debian's Chromium: a name that answers a public address when
// Panoptes checks it and a private one when the browser asks again must not let the browser into this machine —
// neither for one of the page's requests (image, fetch, WebSocket, HTTPS through CONNECT) nor for the watched page.
//
// The setting, on one machine: the test server listens on 127.0.0.1 and 127.0.0.2, and the tests' address policy
// (monitors/web/address-rule.ts) counts 127.0.0.2 as public, as a site on the web would be. For Panoptes, names
// under .public.test and .rebind.test resolve to 127.0.0.2. The browser is started through a wrapper whose own
// resolver answers the .rebind.test names with 127.0.0.1 (--host-resolver-rules): what a rebinding DNS server
// (short TTL, a second answer) gives a browser that resolves again after our check. Whatever arrives at 127.0.0.1
// from such a page is a leak.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import web from '../../monitors/web/index.js';
import { isPrivateAddress, setAddressPolicyForTests, systemAddressPolicy } from '../../monitors/web/address-rule.js';
import { createTestContext } from './web-test-context.js';

const CHROMIUM = process.env.PANOPTES_CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium)`;

const servers: net.Server[] = [];
let port = 0;
let tlsPort = 0;
/** "<address it arrived at> <Host header> <path>", and "<address> tls" for each connection to the HTTPS port. */
const seen: string[] = [];
let dir = '';
let wrapper = '';

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

const handler: http.RequestListener = (req, res) => {
  const p = new URL(req.url ?? '/', 'http://x').pathname;
  seen.push(`${req.socket.localAddress} ${req.headers.host?.split(':')[0]} ${p}`);
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

const listen = (s: net.Server, p: number, host: string) => new Promise<number>((resolve) => s.listen(p, host, () => resolve((s.address() as AddressInfo).port)));

before(async () => {
  for (const host of ['127.0.0.1', '127.0.0.2']) {
    const s = http.createServer(handler);
    s.on('upgrade', (req, socket) => {
      seen.push(`${req.socket.localAddress} ${req.headers.host?.split(':')[0]} ${req.url} (websocket)`);
      socket.destroy();
    });
    port = await listen(s, port, host);
    // HTTPS needs no certificate here: a connection arriving is what counts.
    const t = net.createServer((socket) => {
      seen.push(`${socket.localAddress} tls`);
      socket.destroy();
    });
    tlsPort = await listen(t, tlsPort, host);
    servers.push(s, t);
  }
  setAddressPolicyForTests({
    lookup: async (name) => {
      if (name.endsWith('.public.test') || name.endsWith('.rebind.test')) return ['127.0.0.2'];
      return systemAddressPolicy.lookup(name);
    },
    isPrivateAddress: (a) => a !== '127.0.0.2' && isPrivateAddress(a),
  });
  dir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-rebind-'));
  wrapper = path.join(dir, 'chromium');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${CHROMIUM} '--host-resolver-rules=MAP *.rebind.test 127.0.0.1, MAP *.public.test 127.0.0.2' "$@"\n`);
  chmodSync(wrapper, 0o755);
});
after(() => {
  setAddressPolicyForTests(null);
  for (const s of servers) {
    if (s instanceof http.Server) s.closeAllConnections();
    s.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

const kept = () => {
  const versions: string[] = [];
  return { versions, extra: { versions: { add: (text: string) => (versions.push(text), { id: versions.length, created: true }) } } };
};

test('a name that turns private after the check: the page\'s image, fetch, WebSocket and HTTPS never reach this machine', { skip, timeout: 180_000 }, async () => {
  seen.length = 0;
  const v = kept();
  const t = createTestContext(web, { url: `http://www.public.test:${port}/page`, render: true, browserPath: wrapper, steps: ['wait:#done'], selector: '#t', timeout: '60s' }, { extra: v.extra });
  await t.instance.start();
  await t.tick();
  await t.stop();
  assert.deepEqual(t.errors, []);
  assert.deepEqual(v.versions, ['Watched page and its own request'], 'the page and its own requests work');
  const leaks = seen.filter((s) => s.startsWith('127.0.0.1 '));
  assert.deepEqual(leaks, [], 'nothing from a public page may reach loopback');
  // …because each went to the address Panoptes checked, not to the browser's answer.
  for (const arrival of ['127.0.0.2 img.rebind.test /leak/rebind-img', '127.0.0.2 fetch.rebind.test /leak/rebind-fetch', '127.0.0.2 ws.rebind.test /leak/rebind-ws (websocket)', '127.0.0.2 tls']) {
    assert.ok(seen.includes(arrival), `${arrival}: ${seen.join(', ')}`);
  }
});

test('the watched page\'s own name turning private after the check: not loaded from this machine', { skip, timeout: 180_000 }, async () => {
  seen.length = 0;
  const v = kept();
  const t = createTestContext(web, { url: `http://www.rebind.test:${port}/page`, render: true, browserPath: wrapper, selector: '#t', timeout: '60s' }, { extra: v.extra });
  await t.instance.start();
  await t.tick();
  await t.stop();
  assert.deepEqual(seen.filter((s) => s.startsWith('127.0.0.1 ')), [], 'the page was loaded from loopback');
  assert.ok(seen.includes('127.0.0.2 www.rebind.test /page'), seen.join('\n'));
});
