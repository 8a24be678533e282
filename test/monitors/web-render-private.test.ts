// The rendered fetch's private-address rule end to end, in Debian's Chromium: a page on a public address may not
// make the browser reach loopback or private addresses — by image, frame, fetch, a redirect of one of its own
// requests, or a WebSocket — while a page on this machine may load what it likes from it (the rule is about pages
// from elsewhere; the watched address itself is the user's choice, as for the plain fetch).
//
// "Public" here: the local server listens on 127.0.0.1 and 127.0.0.2, and the tests' address policy
// (base/address-rule.ts) resolves *.public.test to 127.0.0.2 and counts that address, and only that one, as
// public, as a real site on the web would be (test/helpers/public-address.ts); Chromium is started through a wrapper that maps the same names to the
// same address in the browser (--host-resolver-rules). The server records every request and WebSocket upgrade it
// receives with the address it arrived at: whatever arrives at 127.0.0.1 from the public page is a leak.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { noChromium as skip, startPublicAddress, type PublicAddress } from '../helpers/public-address.js';

let site: PublicAddress;
let port = 0;
let seen: string[] = [];

const page = (leakHost: string) => `<!doctype html><html><body><p id="t">Watched page</p>
  <img src="http://${leakHost}:PORT/leak/img">
  <iframe src="http://localhost:PORT/leak/frame"></iframe>
  <iframe src="/hop-frame"></iframe>
  <script>
    const ws = new Promise((done) => {
      try {
        const s = new WebSocket('ws://${leakHost}:PORT/leak/ws');
        s.onopen = s.onerror = s.onclose = () => done();
      } catch { done(); }
    });
    Promise.allSettled([
      fetch('http://${leakHost}:PORT/leak/fetch'),
      fetch('/hop'),
      ws,
      fetch('/allowed').then((r) => r.text()).then((t) => { document.getElementById('t').textContent += ' ' + t; }),
    ]).then(() => { const d = document.createElement('p'); d.id = 'done'; d.textContent = 'done'; document.body.append(d); });
  </script></body></html>`;

const respond = (p: string, res: http.ServerResponse) => {
  if (p === '/page') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page('127.0.0.1').replaceAll('PORT', String(port)));
  } else if (p === '/hop') {
    // One of the page's own requests, answered by a redirect into this machine.
    res.writeHead(302, { location: `http://127.0.0.1:${port}/leak/redirect`, 'access-control-allow-origin': '*' });
    res.end();
  } else if (p === '/moved') {
    // The watched page itself, moved into this machine.
    res.writeHead(302, { location: `http://127.0.0.1:${port}/leak/moved` });
    res.end();
  } else if (p === '/hop-frame') {
    // A frame of the page, answered by a redirect into this machine.
    res.writeHead(302, { location: `http://localhost:${port}/leak/redirect-frame` });
    res.end();
  } else if (p === '/allowed') {
    res.writeHead(200, { 'content-type': 'text/plain', 'access-control-allow-origin': '*' });
    res.end('and its own request');
  } else {
    res.writeHead(200, { 'content-type': 'text/html', 'access-control-allow-origin': '*' });
    res.end('<p>internal</p>');
  }
};

before(async () => {
  site = await startPublicAddress({ respond, publicSuffixes: ['.public.test'], browserRules: 'MAP *.public.test 127.0.0.2' });
  ({ port, seen } = site);
});
after(() => site.close());

const arrived = (host: string, p: string) => seen.some((s) => s.endsWith(` ${host} ${p}`));

test('a page on a public address reaches nothing on this machine: image, frame, fetch, a WebSocket', { skip, timeout: 180_000 }, async () => {
  seen.length = 0;
  const t = await site.render(`http://www.public.test:${port}/page`, { steps: ['wait:#done'] });
  assert.deepEqual(t.errors, []);
  assert.deepEqual(t.versions, ['Watched page and its own request'], 'the page and its own requests to its own host work');
  assert.ok(arrived('www.public.test', '/page') && arrived('www.public.test', '/allowed') && arrived('www.public.test', '/hop'), seen.join('\n'));
  // Where the redirects lead is the next test's.
  const leaks = seen.filter((s) => s.includes('/leak/') && !s.includes('/leak/redirect'));
  assert.deepEqual(leaks, [], 'nothing from a public page may reach loopback');
});

// Playwright calls a route handler for the first URL of a request only, not for where a redirect leads: the
// browser's traffic goes through a checking proxy of ours instead, which sees every hop.
test('a redirect of a public page\'s request or frame into this machine is not followed', { skip, timeout: 180_000 }, async () => {
  seen.length = 0;
  const t = await site.render(`http://www.public.test:${port}/page`, { steps: ['wait:#done'] });
  assert.deepEqual(t.errors, []);
  assert.ok(arrived('www.public.test', '/hop') && arrived('www.public.test', '/hop-frame'), seen.join('\n'));
  assert.deepEqual(seen.filter((s) => s.includes('/leak/redirect')), [], 'a redirect into loopback was followed');
});

test('a watched public page redirected into this machine: not followed, and the check says why', { skip, timeout: 180_000 }, async () => {
  seen.length = 0;
  const t = await site.render(`http://www.public.test:${port}/moved`);
  assert.ok(arrived('www.public.test', '/moved'), seen.join('\n'));
  assert.deepEqual(seen.filter((s) => s.includes('/leak/')), [], 'the redirect into loopback was followed');
  assert.deepEqual(t.versions, []);
  assert.equal(t.errors.length, 1);
  assert.match(t.errors[0]!, /127\.0\.0\.1 is on this machine or the local network, which a page on a public address may not reach/);
});

test('a page on this machine may load from this machine (the rule is for pages from elsewhere)', { skip, timeout: 180_000 }, async () => {
  seen.length = 0;
  const t = await site.render(`http://127.0.0.1:${port}/page`, { steps: ['wait:#done'] });
  assert.deepEqual(t.errors, []);
  for (const p of ['/leak/img', '/leak/frame', '/leak/fetch', '/leak/redirect', '/leak/redirect-frame']) assert.ok(seen.some((s) => s.endsWith(' ' + p)), `${p} reached: ${seen.join(', ')}`);
});
