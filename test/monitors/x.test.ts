// The X monitor against a local HTTP server that answers like X's API v2 (same paths, JSON shapes and
// rate-limit headers, including 401 and 429), so since_id polling and the rate-limit wait are exercised for real.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import xMonitor from '../../monitors/x/index.js';
import { dryRunMonitor } from '../../core/monitor-host.js';
import { createTestContext } from './web-test-context.js';
import { runMonitor } from '../helpers/monitor-harness.js';

interface FakeTweet {
  id: string;
  text: string;
  author_id: string;
  created_at: string;
}
const users = [
  { id: '2244994945', name: 'X Dev', username: 'XDevelopers' },
  { id: '783214', name: 'Panoptes Fan', username: 'pfan' },
];
let mentions: FakeTweet[] = [];
let searchResults: FakeTweet[] = [];
let requests: URL[] = [];
let limitMode: 'none' | 'exhausted' | 'last-call' = 'none';
let resetAt = 0;
let server: http.Server;
let base = '';

const tweet = (id: string, text: string, author = '783214'): FakeTweet => ({ id, text, author_id: author, created_at: new Date(Date.UTC(2026, 10, 21, 9, 0, Number(id.slice(-2)))).toISOString() });

function page(all: FakeTweet[], url: URL) {
  const since = url.searchParams.get('since_id');
  const max = Number(url.searchParams.get('max_results') ?? 10);
  const token = url.searchParams.get('pagination_token') ?? url.searchParams.get('next_token');
  // Like X: newest first, pages of max_results, a next_token while more remain.
  let list = all.filter((t) => !since || BigInt(t.id) > BigInt(since)).sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
  const offset = token ? Number(token) : 0;
  const slice = list.slice(offset, offset + max);
  const authors = users.filter((u) => slice.some((t) => t.author_id === u.id));
  return {
    ...(slice.length ? { data: slice.map((t) => ({ ...t, public_metrics: { retweet_count: 1, reply_count: 2, like_count: 3, quote_count: 0 } })), includes: { users: authors } } : {}),
    meta: { result_count: slice.length, ...(slice.length ? { newest_id: slice[0]!.id, oldest_id: slice.at(-1)!.id } : {}), ...(offset + max < list.length ? { next_token: String(offset + max) } : {}) },
  };
}

before(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    requests.push(url);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== 'Bearer good-token') {
      return send(401, { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' });
    }
    const reset = String(Math.floor(resetAt / 1000));
    if (limitMode === 'exhausted') {
      return send(429, { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 }, { 'x-rate-limit-limit': '180', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': reset });
    }
    const rl = { 'x-rate-limit-limit': '180', 'x-rate-limit-remaining': limitMode === 'last-call' ? '0' : '179', 'x-rate-limit-reset': reset || String(Math.floor(Date.now() / 1000) + 900) };
    let m: RegExpMatchArray | null;
    if ((m = url.pathname.match(/^\/2\/users\/by\/username\/(\w+)$/))) {
      const u = users.find((x) => x.username.toLowerCase() === m![1]!.toLowerCase());
      return u ? send(200, { data: u }, rl) : send(200, { errors: [{ detail: 'Could not find user', title: 'Not Found Error' }] }, rl);
    }
    if ((m = url.pathname.match(/^\/2\/users\/(\d+)\/mentions$/))) return send(200, page(mentions, url), rl);
    if (url.pathname === '/2/tweets/search/recent') return send(200, page(searchResults, url), rl);
    send(404, { title: 'Not Found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

test('mentions: first check baselines, later checks emit each new post once, oldest first, across pages', async () => {
  mentions = [tweet('1000000000000000001', 'old mention @XDevelopers')];
  requests = [];
  limitMode = 'none';
  const t = createTestContext(xMonitor, { mode: 'mentions', username: '@XDevelopers', baseUrl: base }, { secrets: { token: 'good-token' } });
  await t.instance.start();
  await t.tick();
  assert.deepEqual(t.errors, []);
  assert.equal(t.events.length, 0, 'what is there at the first check is not announced');

  // 120 new mentions: more than one page of 100.
  for (let i = 2; i <= 121; i++) mentions.push(tweet(`10000000000000001${String(i).padStart(2, '0')}`, `mention number ${i}`));
  await t.tick();
  assert.deepEqual(t.errors, []);
  assert.equal(t.events.length, 120);
  assert.equal(t.events[0]!.fields!.text, 'mention number 2');
  assert.equal(t.events.at(-1)!.fields!.text, 'mention number 121');
  const last = requests.filter((u) => u.pathname.endsWith('/mentions')).at(-1)!;
  assert.equal(last.searchParams.get('since_id'), '1000000000000000001', 'since_id is the newest post seen');
  assert.ok(requests.some((u) => u.searchParams.get('pagination_token')), 'follows pagination');
  const e = t.events[0]!;
  assert.equal(e.type, 'social.post');
  assert.equal(e.url, 'https://x.com/pfan/status/1000000000000000102');
  assert.deepEqual(e.fields!.author, { id: '783214', name: 'Panoptes Fan', username: 'pfan' });
  assert.deepEqual(e.fields!.metrics, { replies: 2, reposts: 1, likes: 3, quotes: 0 });

  await t.tick();
  assert.equal(t.events.length, 120, 'nothing new, nothing emitted');
  assert.equal(requests.filter((u) => u.pathname.startsWith('/2/users/by/')).length, 1, 'the user id is looked up once');
  await t.stop();
});

test('rate limits: a 429 stops all requests until the reset time; the last call of a window waits too', async () => {
  searchResults = [tweet('2000000000000000001', 'panoptes is neat')];
  limitMode = 'none';
  const t = createTestContext(xMonitor, { mode: 'search', query: 'panoptes', baseUrl: base }, { secrets: { token: 'good-token' } });
  await t.instance.start();
  await t.tick();
  assert.deepEqual(t.errors, []);

  limitMode = 'exhausted';
  resetAt = Date.now() + 1_500;
  requests = [];
  await t.tick();
  assert.match(t.errors.at(-1)!, /rate limited by X until/);
  await t.tick();
  await t.tick();
  assert.equal(requests.length, 1, 'no request is made before the reset');

  await new Promise((r) => setTimeout(r, Math.max(0, resetAt - Date.now()) + 100));
  limitMode = 'last-call';
  resetAt = Date.now() + 1_500;
  searchResults.push(tweet('2000000000000000002', 'panoptes again'));
  await t.tick();
  assert.equal(t.events.length, 1, 'after the reset it polls again');
  assert.equal(t.events[0]!.fields!.text, 'panoptes again');
  requests = [];
  await t.tick();
  assert.equal(requests.length, 0, 'remaining 0 in the headers: wait for the reset instead of asking');
  assert.match(t.errors.at(-1)!, /rate limited/);
  await t.stop();
});

test('a rejected token (401) is a clear failure; a dry run shows the newest posts; config mistakes are caught', async () => {
  limitMode = 'none';
  const t = createTestContext(xMonitor, { mode: 'search', query: 'panoptes', baseUrl: base }, { secrets: { token: 'expired' } });
  await t.instance.start();
  await t.tick();
  assert.match(t.errors[0]!, /rejected the token \(401/);
  assert.ok(!t.errors[0]!.includes('expired'), 'the token is not echoed');
  await t.stop();

  searchResults = Array.from({ length: 8 }, (_, i) => tweet(`30000000000000000${10 + i}`, `post ${i}`));
  const events = await dryRunMonitor(xMonitor, { mode: 'search', query: 'panoptes', baseUrl: base }, { token: 'good-token' });
  assert.deepEqual(events.map((e) => e.fields.text), ['post 3', 'post 4', 'post 5', 'post 6', 'post 7']);

  await assert.rejects(dryRunMonitor(xMonitor, { mode: 'mentions', baseUrl: base }, { token: 'good-token' }), /user name is needed/);
  await assert.rejects(dryRunMonitor(xMonitor, { mode: 'search', query: 'q', baseUrl: 'http://api.example.com' }, { token: 'x' }), /only allowed to 127/);
});

test('Panoptes killed right after storing a post: after the restart every post is in the history exactly once', async () => {
  limitMode = 'none';
  searchResults = [tweet('4000000000000000001', 'before the crash test')];
  // Restarts stand in for the 1-minute interval: every start polls at once.
  const run = await runMonitor(xMonitor, { mode: 'search', query: 'crash', baseUrl: base, interval: '10m' }, { secrets: { token: 'good-token' }, crashAfterEvents: 2 });
  try {
    await run.waitForHealth((h) => h.status === 'ok', 10_000, 'the baseline check');
    for (const n of [2, 3, 4]) searchResults.push(tweet(`400000000000000000${n}`, `crash post ${n}`));
    await run.restart(); // polls: post 2 is stored, post 3 is stored and the process dies before hearing back
    await run.crashed;
    await run.restart(); // polls again from the since_id saved with post 3
    await run.waitForEvents(3, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(run.stored().map((e) => e.fields.text), ['crash post 2', 'crash post 3', 'crash post 4']);
  } finally {
    await run.stop();
  }
});
