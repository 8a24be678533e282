// Politeness of the pollers that visit other people's servers (web pages and feeds), under the real MonitorHost
// against local HTTP servers that record every request: one per-host limiter for both types (how many in flight,
// a gap between request starts), a server's "slow down" (429/503 + Retry-After) honoured by every monitor of that
// host with the wait in their health, conditional requests for pages, check windows, and spread-out check times.
// Nothing here asserts a speed: the servers' recorded data (arrival order, how many were in flight) and the
// health the host reports are what is checked, with bounds far from what a loaded machine could blur.
import { test, afterEach, before, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import web from '../../monitors/web/index.js';
import rss from '../../monitors/rss/index.js';
import { MonitorHost, jitteredInterval } from '../../core/monitor-host.js';
import { sharedHostLimiter } from '../../base/conditional-get.js';
import { memoryState } from '../../core/store/monitor-state-store.js';
import { silentLogger } from '../../core/log.js';
import type { MonitorDefinition, MonitorHealth, MonitorState } from '../../core/monitor.js';
import type { NewEvent } from '../../core/event.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';
import { waitFor } from './web-test-context.js';

const GAP_MS = 1_500;
let server: TestServer;

before(() => {
  // The shared limiter leaves this machine's own services out of the gap; here the "other server" is on loopback.
  sharedHostLimiter.configure({ minGapMs: GAP_MS, gapOnLoopback: true });
});
// A server (a host:port) per test: a host that said "wait" in one test is still waited for in the next.
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(() => server.close());

const feed = (n: number) =>
  `<?xml version="1.0"?><rss version="2.0"><channel><title>F${n}</title><link>http://x/</link><description>d</description>` +
  `<item><title>Item ${n}</title><link>http://x/${n}</link><guid>g${n}</guid></item></channel></rss>`;

interface Hosted {
  host: MonitorHost;
  health: Map<string, MonitorHealth>;
  events: NewEvent[];
  states: Map<string, MonitorState>;
}

/** A host running web and rss monitors; `random` 0 keeps first checks at once (no start spread). */
function makeHost(random: () => number = () => 0): Hosted {
  const health = new Map<string, MonitorHealth>();
  const events: NewEvent[] = [];
  const states = new Map<string, MonitorState>();
  const host = new MonitorHost({
    definitions: new Map<string, MonitorDefinition>([
      ['web', web as MonitorDefinition],
      ['rss', rss as MonitorDefinition],
    ]),
    stateFor: (id) => {
      if (!states.has(id)) states.set(id, memoryState());
      return states.get(id)!;
    },
    emit: async (id, e, st) => {
      events.push(e);
      for (const [k, v] of Object.entries(st ?? {})) states.get(id)!.set(k, v);
    },
    log: silentLogger,
    // What each monitor said last while running (stopping clears the next check).
    onHealth: (h) => void (h.status !== 'stopped' && health.set(h.monitorId, { ...h })),
    random,
  });
  return { host, health, events, states };
}

test('one limiter for pages and feeds on one host: at most 2 in flight, and a gap between request starts', async () => {
  const arrivals: number[] = [];
  let inFlight = 0;
  let peak = 0;
  const slow = (body: string, type: string) => (_req: unknown, res: import('node:http').ServerResponse) => {
    arrivals.push(Date.now());
    inFlight++;
    peak = Math.max(peak, inFlight);
    // Long enough that, without a limit, every monitor's request would be in flight at once.
    setTimeout(() => {
      inFlight--;
      res.writeHead(200, { 'content-type': type });
      res.end(body);
    }, 4_000);
  };
  for (const n of [1, 2, 3, 4]) server.route(`/limit/page${n}`, slow(`<p>page ${n}</p>`, 'text/html'));
  for (const n of [1, 2]) server.route(`/limit/feed${n}`, slow(feed(n), 'application/rss+xml'));

  const h = makeHost();
  try {
    for (const n of [1, 2, 3, 4]) await h.host.start({ id: `web:p${n}`, type: 'web', name: `Page ${n}`, config: { url: server.url(`/limit/page${n}`) }, secrets: {} });
    for (const n of [1, 2]) await h.host.start({ id: `rss:f${n}`, type: 'rss', name: `Feed ${n}`, config: { url: server.url(`/limit/feed${n}`) }, secrets: {} });
    await waitFor(() => [...h.health.values()].filter((x) => x.status === 'ok').length === 6, 'six first checks done', 60_000);
  } finally {
    await h.host.stopAll();
  }
  assert.equal(arrivals.length, 6);
  assert.ok(peak <= 2, `at most 2 requests in flight to one host, saw ${peak}`);
  const gaps = arrivals.slice(1).map((t, i) => t - arrivals[i]!);
  // The limiter spaces starts by GAP_MS; on arrival two can be closer by how much longer the first took to connect,
  // which on a machine at load 25 was seen at 350 ms.
  assert.ok(gaps.every((g) => g >= GAP_MS / 3), `gaps between request arrivals: ${gaps.join(', ')} ms`);
});

test('429 with Retry-After: every monitor of that host waits, without asking again, and says why and until when', async () => {
  let asked = 0;
  for (const p of ['/busy/a', '/busy/b']) {
    server.route(p, (_req, res) => {
      asked++;
      res.writeHead(429, { 'retry-after': '3600', 'content-type': 'text/plain' });
      res.end('slow down');
    });
  }
  const h = makeHost();
  const started = Date.now();
  try {
    await h.host.start({ id: 'web:a', type: 'web', name: 'A', config: { url: server.url('/busy/a') }, secrets: {} });
    await waitFor(() => Boolean(h.health.get('web:a')?.nextRetry), 'A to be told to wait', 30_000);
    // B starts after the server said so to A: it must not ask at all.
    await h.host.start({ id: 'web:b', type: 'web', name: 'B', config: { url: server.url('/busy/b') }, secrets: {} });
    await waitFor(() => Boolean(h.health.get('web:b')?.nextRetry), 'B to report its next check', 30_000);
  } finally {
    await h.host.stopAll();
  }
  assert.equal(asked, 1, 'after the 429 nobody asks that host again before the time it gave');
  for (const id of ['web:a', 'web:b']) {
    const hl = h.health.get(id)!;
    const next = Date.parse(hl.nextRetry!);
    assert.ok(next >= started + 3_500_000 && next <= Date.now() + 3_700_000, `${id}: next check ${hl.nextRetry}`);
    assert.match(hl.message ?? '', /429/, `${id}: ${hl.message}`);
    assert.match(hl.message ?? '', /wait/i, `${id}: ${hl.message}`);
    assert.match(hl.message ?? '', /\d\d:\d\d/, `${id}: says until when: ${hl.message}`);
  }
});

test('503 with a Retry-After date holds a feed until that date', async () => {
  const until = new Date(Date.now() + 2 * 3600_000);
  until.setUTCMilliseconds(0);
  server.route('/down/feed', (_req, res) => {
    res.writeHead(503, { 'retry-after': until.toUTCString(), 'content-type': 'text/plain' });
    res.end('maintenance');
  });
  const h = makeHost();
  try {
    await h.host.start({ id: 'rss:down', type: 'rss', name: 'Down feed', config: { url: server.url('/down/feed') }, secrets: {} });
    await waitFor(() => Boolean(h.health.get('rss:down')?.nextRetry), 'the feed to report its next check', 30_000);
  } finally {
    await h.host.stopAll();
  }
  const hl = h.health.get('rss:down')!;
  assert.ok(Math.abs(Date.parse(hl.nextRetry!) - until.getTime()) < 60_000, `next check ${hl.nextRetry}, asked for ${until.toISOString()}`);
  assert.match(hl.message ?? '', /503/);
});

test('pages are fetched conditionally: an unchanged page answered 304 is no change and costs no body', async () => {
  const seen: Array<string | undefined> = [];
  server.route('/cond/page', (req, res) => {
    seen.push(req.headers['if-none-match'] as string | undefined);
    if (req.headers['if-none-match'] === '"v1"') {
      res.writeHead(304, { etag: '"v1"' });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html', etag: '"v1"' });
    res.end('<p>Price 10</p>');
  });
  const h = makeHost();
  try {
    await h.host.start({ id: 'web:cond', type: 'web', name: 'Cond', config: { url: server.url('/cond/page') }, secrets: {} });
    await waitFor(() => h.health.get('web:cond')?.status === 'ok', 'the first check');
    h.host.checkNow('web:cond');
    await waitFor(() => seen.length === 2 && h.health.get('web:cond')?.lastSuccess !== null && /not modified/i.test(h.health.get('web:cond')?.message ?? ''), 'the second check to be answered 304', 30_000);
  } finally {
    await h.host.stopAll();
  }
  assert.deepEqual(seen, [undefined, '"v1"']);
  assert.equal(h.events.length, 0);
});

/** "HH:MM" local time, `minutes` from now. */
const hhmm = (minutes: number) => {
  const d = new Date(Date.now() + minutes * 60_000);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
};

test('check windows: outside them the page is not fetched and the health says when the next check is; Check now still checks', async () => {
  let asked = 0;
  server.route('/windows/page', (_req, res) => {
    asked++;
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<p>Hello</p>');
  });
  const h = makeHost();
  // A window that opens in two hours (and stays open one hour), so it is closed now whatever the time of day.
  const start = hhmm(120);
  try {
    await h.host.start({ id: 'web:win', type: 'web', name: 'Windowed', config: { url: server.url('/windows/page'), checkWindows: [{ start, end: hhmm(180) }] }, secrets: {} });
    await waitFor(() => h.health.get('web:win')?.status === 'ok', 'the first (skipped) check');
    assert.equal(asked, 0, 'not fetched outside the check windows');
    assert.match(h.health.get('web:win')!.message ?? '', new RegExp(`outside.*check window.*${start}`, 'i'));
    h.host.checkNow('web:win');
    await waitFor(() => asked === 1, 'Check now to fetch the page anyway');
  } finally {
    await h.host.stopAll();
  }

  // And a window open now checks as usual.
  const h2 = makeHost();
  try {
    await h2.host.start({ id: 'web:open', type: 'web', name: 'Open', config: { url: server.url('/windows/page'), checkWindows: [{ start: hhmm(-60), end: hhmm(60) }] }, secrets: {} });
    await waitFor(() => asked === 2 && h2.health.get('web:open')?.status === 'ok', 'a check inside the window');
  } finally {
    await h2.host.stopAll();
  }
});

test('jitter: monitors started together spread their first checks; intervals vary by ±10 %', async () => {
  // A monitor type that only records when it checks, with a short interval so the spread is short too.
  const order: number[] = [];
  const def: MonitorDefinition<{ n: number }> = {
    type: 'poll',
    title: 'poll',
    description: 'records its checks',
    configSchema: (await import('zod')).z.object({ n: (await import('zod')).z.number() }),
    events: [],
    minIntervalMs: 100,
    create: (ctx) => ({
      start: () => ctx.every(8_000, async () => void order.push(ctx.config.n), { spread: true }),
      stop() {},
    }),
  };
  // The first four of a burst check at once; later ones at a random point of the spread window. Descending random
  // numbers put monitors 5..8 in reverse order, 100+ ms apart.
  const draws = [0.9, 0.7, 0.5, 0.3];
  const host = new MonitorHost({ definitions: new Map([['poll', def as MonitorDefinition]]), stateFor: () => memoryState(), emit: async () => {}, log: silentLogger, random: () => draws.shift() ?? 0.5 });
  try {
    for (let n = 1; n <= 8; n++) await host.start({ id: `poll:${n}`, type: 'poll', name: String(n), config: { n }, secrets: {} });
    await waitFor(() => order.length >= 8, 'eight first checks', 30_000);
  } finally {
    await host.stopAll();
  }
  assert.deepEqual(order.slice(0, 4).sort(), [1, 2, 3, 4]);
  assert.deepEqual(order.slice(4, 8), [8, 7, 6, 5]);

  assert.equal(jitteredInterval(60_000, () => 0), 54_000);
  assert.equal(jitteredInterval(60_000, () => 0.5), 60_000);
  assert.ok(jitteredInterval(60_000, () => 0.999999) <= 66_000);
});
