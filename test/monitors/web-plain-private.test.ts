// The plain (non-rendered) fetch keeps the rendered fetch's address rule: a watched page on a public address may not
// redirect the fetch into loopback or private addresses (a GET into the user's own machine or home network, whose
// answer would then be watched and shown), while a page the user configured on such an address stays theirs to
// watch, redirects within it included. Feeds share the fetch's redirect loop (base/conditional-get.ts) and the rule.
//
// "Public" as in the rendered tests (test/helpers/public-address.ts): the server listens on 127.0.0.1 and 127.0.0.2,
// and the tests' address policy counts 127.0.0.2, and only it, as public. The server records the address every
// request arrived at: whatever arrives at 127.0.0.1 from the public page is a leak.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import web from '../../monitors/web/index.js';
import rss from '../../monitors/rss/index.js';
import { isPrivateAddress, setAddressPolicyForTests } from '../../base/address-rule.js';
import { startPublicAddress, type PublicAddress } from '../helpers/public-address.js';
import { createTestContext } from './web-test-context.js';

let site: PublicAddress;
let port = 0;

const feed = (title: string) =>
  `<?xml version="1.0"?><rss version="2.0"><channel><title>${title}</title><link>http://x/</link><description>d</description>` +
  `<item><title>${title} item</title><link>http://x/1</link><guid>${title}-1</guid></item></channel></rss>`;

const respond = (p: string, res: http.ServerResponse) => {
  const redirect = (location: string) => {
    res.writeHead(302, { location });
    res.end();
  };
  if (p === '/moved') redirect(`http://127.0.0.1:${port}/leak/moved`);
  else if (p === '/moved-localhost') redirect(`http://localhost:${port}/leak/localhost`);
  // A name that resolves to a private address (the policy's lookup answers it): refused before any connection.
  else if (p === '/moved-name') redirect(`http://intranet.lan.test:${port}/leak/name`);
  else if (p === '/moved-v6') redirect(`http://[::ffff:127.0.0.1]:${port}/leak/v6`);
  else if (p === '/moved-public') redirect(`http://127.0.0.2:${port}/page`);
  else if (p === '/local-moved') redirect(`http://127.0.0.1:${port}/page`);
  else if (p === '/feed-moved') redirect(`http://127.0.0.1:${port}/leak/feed`);
  else if (p === '/leak/feed' || p === '/feed') {
    res.writeHead(200, { 'content-type': 'application/rss+xml' });
    res.end(feed(p === '/feed' ? 'Public' : 'Internal'));
  } else {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<p id="t">${p.startsWith('/leak/') ? 'internal' : 'Watched page'}</p>`);
  }
};

before(async () => {
  site = await startPublicAddress({ respond, publicSuffixes: ['.public.test'], browserRules: 'MAP *.public.test 127.0.0.2' });
  port = site.port;
  // As startPublicAddress's policy, and intranet.lan.test resolving to this machine.
  setAddressPolicyForTests({
    lookup: async (name) => (name === 'intranet.lan.test' ? ['127.0.0.1'] : name.endsWith('.public.test') ? ['127.0.0.2'] : ['192.0.2.1']),
    isPrivateAddress: (a) => a !== '127.0.0.2' && isPrivateAddress(a),
  });
});
after(() => site.close());

async function check(url: string) {
  const versions: string[] = [];
  const extra = { versions: { add: (text: string) => (versions.push(text), { id: versions.length, created: true }) } };
  const t = createTestContext(web, { url, selector: '#t' }, { extra });
  await t.instance.start();
  await t.tick();
  await t.stop();
  return { versions, errors: t.errors };
}

const leaks = () => site.seen.filter((s) => s.includes('/leak/'));

for (const [from, target] of [
  ['/moved', '127.0.0.1'],
  ['/moved-localhost', 'localhost'],
  ['/moved-name', 'intranet.lan.test'],
  ['/moved-v6', '[::ffff:7f00:1]'],
] as const) {
  test(`a watched page on a public address redirected to ${target}: not followed, and the check names where it led`, async () => {
    site.seen.length = 0;
    const t = await check(`http://127.0.0.2:${port}${from}`);
    assert.ok(site.seen.some((s) => s.startsWith('127.0.0.2 ') && s.endsWith(` ${from}`)), site.seen.join('\n'));
    assert.deepEqual(leaks(), [], 'the redirect into this machine was followed');
    assert.deepEqual(t.versions, [], 'nothing from the private address may be kept');
    assert.equal(t.errors.length, 1, t.errors.join('\n'));
    assert.match(t.errors[0]!, new RegExp(`redirected to http://${target.replace(/[.[\]]/g, '\\$&')}:${port}/leak/\\S+ .*on this machine or the local network, which a page on a public address may not reach`));
  });
}

test('a public page redirected to another public address is followed', async () => {
  site.seen.length = 0;
  const t = await check(`http://127.0.0.2:${port}/moved-public`);
  assert.deepEqual(t.errors, []);
  assert.deepEqual(t.versions, ['Watched page']);
});

test('a page the user configured on this machine may redirect within it (the rule is for pages from elsewhere)', async () => {
  site.seen.length = 0;
  const t = await check(`http://127.0.0.1:${port}/local-moved`);
  assert.deepEqual(t.errors, []);
  assert.deepEqual(t.versions, ['Watched page']);
  assert.ok(site.seen.some((s) => s.startsWith('127.0.0.1 ') && s.endsWith(' /page')), site.seen.join('\n'));
});

test('a feed on a public address redirected into this machine: not followed either (same fetch loop)', async () => {
  site.seen.length = 0;
  const t = createTestContext(rss, { url: `http://127.0.0.2:${port}/feed-moved` }, { dryRun: true });
  await t.instance.start();
  await t.tick();
  await t.stop();
  assert.deepEqual(leaks(), [], 'the feed redirect into this machine was followed');
  assert.deepEqual(t.events, []);
  assert.equal(t.errors.length, 1, t.errors.join('\n'));
  assert.match(t.errors[0]!, new RegExp(`redirected to http://127\\.0\\.0\\.1:${port}/leak/feed .*may not reach`));
});

test('a feed on this machine may still redirect within it', async () => {
  site.seen.length = 0;
  const t = createTestContext(rss, { url: `http://127.0.0.1:${port}/feed-moved` }, { dryRun: true });
  await t.instance.start();
  await t.tick();
  await t.stop();
  assert.deepEqual(t.errors, []);
  assert.equal(t.events[0]?.title?.includes('Internal item'), true, JSON.stringify(t.events[0]));
});
