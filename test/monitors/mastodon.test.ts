// The Mastodon monitor against a local HTTP server that answers like a Mastodon instance: REST timelines with
// min_id paging, notifications, 401/429 with X-RateLimit-* headers, and the SSE streaming API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import mastodon from '../../monitors/mastodon/index.js';
import { dryRunMonitor } from '../../core/monitor-host.js';
import { createTestContext } from './web-test-context.js';
import { runMonitor } from '../helpers/monitor-harness.js';

interface S {
  id: string;
  created_at: string;
  content: string;
  url: string;
  visibility: string;
  account: { id: string; username: string; acct: string; display_name: string; url: string };
  replies_count: number;
  reblogs_count: number;
  favourites_count: number;
  reblog: S | null;
  spoiler_text: string;
}
let home: S[] = [];
let tagged: S[] = [];
let notifications: { id: string; type: string; created_at: string; account: S['account']; status: S | null }[] = [];
let requests: URL[] = [];
let rateLimited = false;
let lastCallOfWindow = false;
let resetAt = 0;
let streamingAllowed = true;
const streams = new Set<http.ServerResponse>();
let server: http.Server;
let base = '';
let nextId = 110000000000000000n;

const ann = { id: '1', username: 'ann', acct: 'ann@social.example', display_name: 'Ann Example', url: 'https://social.example/@ann' };
function status(html: string, extra: Partial<S> = {}): S {
  const id = String(++nextId);
  return { id, created_at: new Date().toISOString(), content: html, url: `https://social.example/@ann/${id}`, visibility: 'public', account: ann, replies_count: 1, reblogs_count: 2, favourites_count: 3, reblog: null, spoiler_text: '', ...extra };
}
function push(event: string, payload: unknown) {
  for (const s of streams) s.write(`event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`);
}

/** Mastodon's paging: newest first; with min_id the page right after it; with since_id the newest after it. */
function pageOf<T extends { id: string }>(list: T[], url: URL): T[] {
  const limit = Math.min(40, Number(url.searchParams.get('limit') ?? 20));
  const cmp = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);
  const minId = url.searchParams.get('min_id');
  const asc = list.slice().sort((a, b) => cmp(a.id, b.id));
  if (minId) return asc.filter((x) => cmp(x.id, minId) > 0).slice(0, limit).reverse();
  return asc.reverse().slice(0, limit);
}

before(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://m');
    requests.push(url);
    const json = (code: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    const rl = { 'x-ratelimit-limit': '300', 'x-ratelimit-remaining': lastCallOfWindow ? '0' : '299', 'x-ratelimit-reset': new Date(resetAt || Date.now() + 300_000).toISOString() };
    if (rateLimited) return json(429, { error: 'Too many requests' }, { ...rl, 'x-ratelimit-remaining': '0' });
    const isPublic = url.pathname.startsWith('/api/v1/timelines/tag/') || url.pathname === '/api/v1/instance' || url.pathname.startsWith('/api/v1/streaming/hashtag');
    if (!isPublic && req.headers.authorization !== 'Bearer good-token') return json(401, { error: 'The access token is invalid' });
    if (url.pathname === '/api/v1/instance') return json(200, { uri: 'social.example', urls: { streaming_api: base.replace('http:', 'ws:') } }, rl);
    if (url.pathname === '/api/v1/timelines/home') return json(200, pageOf(home, url), rl);
    if (url.pathname === '/api/v1/notifications') return json(200, pageOf(notifications.filter((n) => url.searchParams.getAll('types[]').includes(n.type)), url), rl);
    if (url.pathname === '/api/v1/timelines/tag/caturday') return json(200, pageOf(tagged, url), rl);
    if (url.pathname === '/api/v1/streaming/user' || url.pathname === '/api/v1/streaming/hashtag') {
      if (!streamingAllowed) return json(401, { error: 'Streaming API disabled' });
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(':)\n\n');
      streams.add(res);
      res.on('close', () => streams.delete(res));
      return;
    }
    json(404, { error: 'Record not found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  for (const s of streams) s.destroy();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

test('home timeline by polling: baseline, then every new post once, oldest first, across min_id pages', async () => {
  home = [status('<p>before</p>')];
  const t = createTestContext(mastodon, { instance: base, timeline: 'home', streaming: false }, { secrets: { accessToken: 'good-token' } });
  await t.instance.start();
  await t.tick();
  assert.deepEqual(t.errors, []);
  assert.equal(t.events.length, 0);

  for (let i = 1; i <= 45; i++) home.push(status(`<p>post <b>${i}</b> &amp; more<br>second line</p>`));
  const boosted = status('<p>original by bob</p>', { account: { ...ann, id: '2', username: 'bob', acct: 'bob', display_name: 'Bob' } });
  home.push(status('', { reblog: boosted, spoiler_text: '' }));
  home.push(status('<p>the ending</p>', { spoiler_text: 'spoilers' }));
  await t.tick();
  assert.deepEqual(t.errors, []);
  assert.equal(t.events.length, 47);
  assert.equal(t.events[0]!.fields!.text, 'post 1 & more\nsecond line');
  assert.equal(t.events[44]!.fields!.text, 'post 45 & more\nsecond line');
  const boost = t.events[45]!.fields!;
  assert.equal(boost.boostedBy, 'ann@social.example');
  assert.deepEqual(boost.author, { id: '2', name: 'Bob', username: 'bob', url: 'https://social.example/@ann' });
  assert.equal(t.events[46]!.fields!.text, '[CW: spoilers] the ending');
  assert.deepEqual(t.events[0]!.fields!.metrics, { replies: 1, reposts: 2, likes: 3 });
  assert.equal(t.events[0]!.type, 'social.post');
  assert.match(t.events[0]!.url!, /^https:\/\/social\.example\/@ann\/\d+$/);

  await t.tick();
  assert.equal(t.events.length, 47, 'nothing twice');
  await t.stop();
});

test('mentions by streaming arrive at once; a dropped stream reconnects and catches up exactly once', async () => {
  notifications = [{ id: '500', type: 'mention', created_at: new Date().toISOString(), account: ann, status: status('<p>old</p>') }];
  const run = await runMonitor(mastodon, { instance: base, timeline: 'mentions', interval: '10m' }, { secrets: { accessToken: 'good-token' } });
  try {
    await run.waitForHealth((h) => h.status === 'ok', 10_000, 'first check');
    const deadline = Date.now() + 10_000;
    while (streams.size === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(streams.size, 1, 'the stream is open');
    await new Promise((r) => setTimeout(r, 200)); // let the catch-up that follows the stream opening finish

    const n1 = { id: '501', type: 'mention', created_at: new Date().toISOString(), account: ann, status: status('<p>@me hello there</p>') };
    notifications.push(n1);
    const sent = Date.now();
    push('notification', n1);
    push('notification', { id: '502', type: 'follow', created_at: new Date().toISOString(), account: ann, status: null });
    const [e1] = await run.waitForEvents(1, 5_000);
    console.log(`  streamed mention → event: ${Date.now() - sent} ms`);
    assert.equal(e1!.fields!.text, '@me hello there');
    assert.equal(e1!.fields!.notificationId, '501');

    // The stream drops; two mentions come while it is down; the reconnect's catch-up brings both, once.
    for (const s of streams) s.destroy();
    notifications.push({ id: '503', type: 'mention', created_at: new Date().toISOString(), account: ann, status: status('<p>while down 1</p>') });
    notifications.push({ id: '504', type: 'mention', created_at: new Date().toISOString(), account: ann, status: status('<p>while down 2</p>') });
    await run.waitForEvents(3, 15_000);
    // The same notification pushed again on the new stream is not emitted twice.
    const again = notifications.find((n) => n.id === '504')!;
    push('notification', again);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(run.events.map((e) => e.fields!.text), ['@me hello there', 'while down 1', 'while down 2']);
  } finally {
    await run.stop();
  }
});

test('429 with X-RateLimit-Reset: no request until the reset; 401 says the token was rejected; no streaming → polling', async () => {
  tagged = [status('<p>#caturday one</p>')];
  streamingAllowed = false;
  const t = createTestContext(mastodon, { instance: base, timeline: 'hashtag', hashtag: '#caturday', streaming: false }, {});
  await t.instance.start();
  await t.tick();
  assert.deepEqual(t.errors, [], 'public hashtags need no token');

  rateLimited = true;
  resetAt = Date.now() + 1_200;
  requests = [];
  await t.tick();
  assert.match(t.errors.at(-1)!, /rate limited by the instance until/);
  await t.tick();
  assert.equal(requests.length, 1, 'waits for the reset instead of asking again');
  await new Promise((r) => setTimeout(r, Math.max(0, resetAt - Date.now()) + 100));
  rateLimited = false;
  tagged.push(status('<p>#caturday two</p>'));
  await t.tick();
  assert.equal(t.events.length, 1);
  assert.equal(t.events[0]!.fields!.text, '#caturday two');
  await t.stop();

  const bad = createTestContext(mastodon, { instance: base, timeline: 'home', streaming: false }, { secrets: { accessToken: 'revoked' } });
  await bad.instance.start();
  await bad.tick();
  assert.match(bad.errors[0]!, /rejected the access token \(401\)/);
  assert.ok(!bad.errors[0]!.includes('revoked'));
  await bad.stop();

  // Streaming refused by the instance: the monitor still delivers by polling.
  const run = await runMonitor(mastodon, { instance: base, timeline: 'hashtag', hashtag: 'caturday', interval: '30s' });
  try {
    await run.waitForHealth((h) => h.status === 'ok', 10_000, 'first check');
    const deadline = Date.now() + 5_000;
    while (!requests.some((u) => u.pathname === '/api/v1/streaming/hashtag') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(requests.some((u) => u.pathname === '/api/v1/streaming/hashtag'), 'it tried to stream');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(run.health().status, 'ok', 'no streaming is not a failure');
  } finally {
    await run.stop();
    streamingAllowed = true;
  }
});

test('dry run shows the newest posts; config mistakes are caught before connecting', async () => {
  home = Array.from({ length: 8 }, (_, i) => status(`<p>home ${i}</p>`));
  const events = await dryRunMonitor(mastodon, { instance: base, timeline: 'home' }, { accessToken: 'good-token' });
  assert.deepEqual(events.map((e) => e.fields.text), ['home 3', 'home 4', 'home 5', 'home 6', 'home 7']);
  await assert.rejects(dryRunMonitor(mastodon, { instance: base, timeline: 'home' }, {}), /needs an access token/);
  await assert.rejects(dryRunMonitor(mastodon, { instance: 'http://mastodon.example', timeline: 'hashtag', hashtag: 'x' }), /only allowed to 127/);
  await assert.rejects(dryRunMonitor(mastodon, { instance: base, timeline: 'hashtag' }), /hashtag is needed/);
});

test('Panoptes killed right after storing a post: after the restart every post is in the history exactly once', async () => {
  home = [status('<p>before the crash test</p>')];
  const run = await runMonitor(mastodon, { instance: base, timeline: 'home', streaming: false, interval: '10m' }, { secrets: { accessToken: 'good-token' }, crashAfterEvents: 2 });
  try {
    await run.waitForHealth((h) => h.status === 'ok', 10_000, 'the baseline check');
    for (const n of [1, 2, 3]) home.push(status(`<p>crash post ${n}</p>`));
    await run.restart(); // polls: post 1 is stored, post 2 is stored and the process dies before hearing back
    await run.crashed;
    await run.restart(); // polls again from the min_id saved with post 2
    await run.waitForEvents(3, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(run.stored().map((e) => e.fields.text), ['crash post 1', 'crash post 2', 'crash post 3']);
  } finally {
    await run.stop();
  }
});
