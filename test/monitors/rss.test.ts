/**
 * The RSS monitor end to end against a real local HTTP server: the shared fetch helper (conditional GET,
 * compression, redirects, failures, size cap, per-host limit), the monitor run by the real monitor host with
 * persisted state (baseline, restart, reorder, edit, new item), and the dry run.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, respond, hang, resetConnection, slowDrip, hugeBody, compressed, type TestServer } from '../helpers/http-server.js';
import { conditionalGet, HostLimiter } from '../../base/conditional-get.js';
import rss from '../../monitors/rss/index.js';
import { diffEntries, entryKey } from '../../monitors/rss/seen.js';
import { parseFeedText } from '../../monitors/rss/parse.js';
import { MonitorHost, dryRunMonitor } from '../../core/monitor-host.js';
import { memoryState } from '../../core/store/monitor-state-store.js';
import type { MonitorDefinition, MonitorHealth, MonitorState } from '../../core/monitor.js';
import type { NewEvent } from '../../core/event.js';
import { silentLogger } from '../../core/log.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
});

interface Item {
  guid?: string;
  title: string;
  link?: string;
  description?: string;
}

function rssDoc(items: Item[], extra = ''): string {
  const body = items
    .map(
      (i) =>
        `<item>${i.guid ? `<guid isPermaLink="false">${i.guid}</guid>` : ''}<title>${i.title}</title>${i.link ? `<link>${i.link}</link>` : ''}` +
        `<description>${i.description ?? ''}</description></item>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Test feed</title>${extra}${body}</channel></rss>`;
}

// ---------------------------------------------------------------- shared fetch helper

test('conditional GET: validators go out, 304 comes back as not modified', async () => {
  server.route('/cond', (req, res) => {
    if (req.headers['if-none-match'] === '"v1"') return void res.writeHead(304).end();
    res.writeHead(200, { etag: '"v1"', 'last-modified': 'Tue, 01 Jul 2025 10:00:00 GMT' }).end('hello');
  });
  const first = await conditionalGet(server.url('/cond'));
  assert.equal(first.notModified, false);
  assert.deepEqual(first.validators, { etag: '"v1"', lastModified: 'Tue, 01 Jul 2025 10:00:00 GMT' });
  const second = await conditionalGet(server.url('/cond'), { validators: first.validators });
  assert.equal(second.notModified, true);
  assert.equal(second.validators.etag, '"v1"');
  const sent = server.requests.filter((r) => r.path === '/cond').at(-1)!;
  assert.equal(sent.headers['if-modified-since'], 'Tue, 01 Jul 2025 10:00:00 GMT');
});

for (const enc of ['gzip', 'deflate', 'br'] as const) {
  test(`${enc}-compressed bodies are decoded`, async () => {
    server.route(`/z-${enc}`, compressed(rssDoc([{ guid: 'a', title: `packed with ${enc}` }]), enc));
    const r = await conditionalGet(server.url(`/z-${enc}`));
    assert.equal(r.notModified, false);
    if (!r.notModified) assert.match(r.body.toString('utf8'), new RegExp(`packed with ${enc}`));
    assert.equal(r.headers.get('content-encoding'), enc);
  });
}

test('redirects are followed and the final URL is reported', async () => {
  server.route('/moved', respond(301, '', { location: '/moved-here' }));
  server.route('/moved-here', respond(200, 'ok'));
  const r = await conditionalGet(server.url('/moved'));
  assert.equal(r.url, server.url('/moved-here'));
});

test('redirects: only an all-permanent chain counts as moved; loops, bad targets and cross-origin credentials', async () => {
  server.route('/perm-a', respond(301, '', { location: '/perm-b' }));
  server.route('/perm-b', respond(308, '', { location: '/perm-c' }));
  server.route('/perm-c', respond(200, 'ok'));
  const all = await conditionalGet(server.url('/perm-a'));
  assert.equal(all.url, server.url('/perm-c'));
  assert.equal(all.movedPermanently, true);

  server.route('/temp-a', respond(301, '', { location: '/temp-b' }));
  server.route('/temp-b', respond(302, '', { location: '/perm-c' }));
  const mixed = await conditionalGet(server.url('/temp-a'));
  assert.equal(mixed.url, server.url('/perm-c'));
  assert.equal(mixed.movedPermanently, false, 'one temporary hop makes the whole chain temporary');
  assert.equal((await conditionalGet(server.url('/perm-c'))).movedPermanently, false);

  server.route('/loop', respond(302, '', { location: '/loop' }));
  await assert.rejects(conditionalGet(server.url('/loop')), /more than 10 redirects from 127\.0\.0\.1/);
  server.route('/to-file', respond(301, '', { location: 'file:///etc/passwd' }));
  await assert.rejects(conditionalGet(server.url('/to-file')), /redirected to a file: address, which is not followed/);

  // Basic auth goes to the configured origin only: not to another host a redirect points at.
  const otherOrigin = server.url('/creds-end').replace('127.0.0.1', 'localhost');
  server.route('/creds-start', respond(302, '', { location: otherOrigin }));
  server.route('/creds-end', respond(200, 'ok'));
  await conditionalGet(server.url('/creds-start'), { basicAuth: { username: 'ann', password: 'pw' } });
  const [start, end] = ['/creds-start', '/creds-end'].map((p) => server.requests.filter((r) => r.path === p).at(-1)!);
  assert.ok(start?.headers.authorization, "sent to the configured origin");
  assert.ok(end, "the other origin was reached");
  assert.equal(end.headers.authorization, undefined, "not sent across origins");
});

test('a feed that moved permanently is polled at its new address until its URL is edited', async () => {
  server.route('/feed-old', respond(301, '', { location: '/feed-new' }));
  server.route('/feed-new', respond(200, rssDoc([{ guid: 'm1', title: 'M1' }]), { 'content-type': 'application/rss+xml' }));
  const h = harness('rss:moved');
  const count = (p: string) => server.requests.filter((r) => r.path === p).length;
  const first = await h.runOnce({ url: server.url('/feed-old') });
  assert.match(String(first.message), /moved permanently to http:\/\/127\.0\.0\.1:\d+\/feed-new/);
  assert.deepEqual([count('/feed-old'), count('/feed-new')], [1, 1]);
  const second = await h.runOnce({ url: server.url('/feed-old') });
  assert.equal(second.status, 'ok');
  assert.deepEqual([count('/feed-old'), count('/feed-new')], [1, 2], 'the old address is not asked again');
  assert.match(String(second.message), /moved permanently to/);
  // The user points the monitor elsewhere: the remembered move no longer applies.
  server.route('/feed-other', respond(200, rssDoc([{ guid: 'o1', title: 'O1' }]), { 'content-type': 'application/rss+xml' }));
  await h.runOnce({ url: server.url('/feed-other') });
  assert.equal(count('/feed-other'), 1);
  assert.equal(count('/feed-new'), 2);
});

test('failures come back as one readable line: status, timeout, reset, slow drip, huge body', async () => {
  server.route('/e500', respond(500, 'boom'));
  server.route('/hang', hang());
  server.route('/reset', resetConnection());
  server.route('/drip', slowDrip(100));
  server.route('/huge', hugeBody(3 * 1024 * 1024));
  await assert.rejects(conditionalGet(server.url('/e500')), /HTTP 500 Internal Server Error from 127\.0\.0\.1:\d+/);
  await assert.rejects(conditionalGet(server.url('/hang'), { timeoutMs: 300 }), /timed out/);
  await assert.rejects(conditionalGet(server.url('/reset')), /reset|127\.0\.0\.1/);
  await assert.rejects(conditionalGet(server.url('/drip'), { timeoutMs: 500 }), /timed out/);
  await assert.rejects(conditionalGet(server.url('/huge'), { maxBytes: 1024 * 1024 }), /too large/);
});

test('per-host limit: no more than the limit in flight to one host, the rest wait their turn', async () => {
  let inFlight = 0;
  let peak = 0;
  const releases: Array<() => void> = [];
  server.route('/slow-slot', (_req, res) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    releases.push(() => {
      inFlight--;
      res.end('ok');
    });
  });
  const limiter = new HostLimiter(2);
  const all = Promise.all([1, 2, 3, 4, 5].map(() => conditionalGet(server.url('/slow-slot'), { limiter })));
  // Release answers one at a time, each once the limit's worth (or all that are left) are waiting, until all five are
  // done: releasing the first at once could, on a loaded machine, leave only one ever in flight.
  let answered = 0;
  while (answered < 5) {
    await new Promise((r) => setImmediate(r));
    const next = releases.length >= Math.min(2, 5 - answered) ? releases.shift() : undefined;
    if (next) {
      assert.ok(inFlight <= 2, `in flight: ${inFlight}`);
      next();
      answered++;
    } else await new Promise((r) => setTimeout(r, 5));
  }
  await all;
  assert.equal(peak, 2);
});

// ---------------------------------------------------------------- the monitor in the real host

interface Harness {
  events: NewEvent[];
  states: Map<string, MonitorState>;
  health: MonitorHealth[];
  /** Start the monitor, wait for its first check to finish, stop it (a process lifetime). */
  runOnce(config: Record<string, unknown>, secrets?: Record<string, string>): Promise<MonitorHealth>;
}

function harness(id = 'rss:test'): Harness {
  const events: NewEvent[] = [];
  const states = new Map<string, MonitorState>();
  const health: MonitorHealth[] = [];
  return {
    events,
    states,
    health,
    async runOnce(config, secrets = {}) {
      let settle!: (h: MonitorHealth) => void;
      const done = new Promise<MonitorHealth>((r) => (settle = r));
      const host = new MonitorHost({
        definitions: new Map<string, MonitorDefinition>([['rss', rss]]),
        stateFor: (mid) => {
          if (!states.has(mid)) states.set(mid, memoryState());
          return states.get(mid)!;
        },
        emit: async (_mid, e) => void events.push(e),
        log: silentLogger,
        onHealth: (h) => {
          health.push(h);
          if (h.status === 'ok' || h.status === 'failing') settle(h);
        },
      });
      await host.start({ id, type: 'rss', name: 'Test feed monitor', config, secrets });
      const h = await done;
      assert.equal(host.isRunning(id), true, 'a failing check must not stop the monitor');
      await host.stopAll();
      return h;
    },
  };
}

test('first run records and emits nothing; restart, reorder and edits emit nothing; one new item emits one event', async () => {
  let doc = rssDoc([
    { guid: 'a', title: 'A', link: '/a' },
    { guid: 'b', title: 'B', link: '/b' },
  ]);
  server.route('/feed-life', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(doc);
  });
  const h = harness();
  const config = { url: server.url('/feed-life') };

  assert.equal((await h.runOnce(config)).status, 'ok');
  assert.equal(h.events.length, 0, 'first run is a baseline');

  assert.equal((await h.runOnce(config)).status, 'ok');
  assert.equal(h.events.length, 0, 'restart re-emits nothing');

  doc = rssDoc([
    { guid: 'b', title: 'B', link: '/b' },
    { guid: 'a', title: 'A (edited title)', link: '/a-moved', description: 'now with text' },
  ]);
  await h.runOnce(config);
  assert.equal(h.events.length, 0, 'reordered feed with an edited old item emits nothing');

  doc = rssDoc([
    { guid: 'c', title: 'C &amp; friends', link: '/c', description: '&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;&lt;/p&gt;&lt;script&gt;evil()&lt;/script&gt;' },
    { guid: 'b', title: 'B', link: '/b' },
    { guid: 'a', title: 'A', link: '/a' },
  ]);
  await h.runOnce(config);
  assert.equal(h.events.length, 1);
  const e = h.events[0]!;
  assert.equal(e.type, 'feed.item');
  assert.equal(e.title, 'C & friends');
  assert.equal(e.url, server.url('/c'), 'relative link resolved against the feed URL');
  assert.equal(e.body, 'Hello world');
  assert.equal(e.fields?.guid, 'c');
  assert.equal(e.fields?.feedTitle, 'Test feed');
  assert.equal(e.fields?.feed, 'Test feed monitor');
  assert.match(String(e.fields?.contentHtml), /<script>evil\(\)<\/script>/, 'content HTML is stored as published');

  await h.runOnce(config);
  assert.equal(h.events.length, 1, 'and it is not emitted twice');
});

test('"emit current items" emits what is there on the first run, oldest first', async () => {
  server.route('/feed-current', respond(200, rssDoc([{ guid: '2', title: 'newer' }, { guid: '1', title: 'older' }]), { 'content-type': 'application/rss+xml' }));
  const h = harness();
  await h.runOnce({ url: server.url('/feed-current'), emitCurrentItems: true });
  assert.deepEqual(h.events.map((e) => e.title), ['older', 'newer']);
});

test('conditional GET between checks: the stored ETag is sent and a 304 emits nothing', async () => {
  server.route('/feed-etag', (req, res) => {
    if (req.headers['if-none-match'] === '"e1"') return void res.writeHead(304).end();
    res.writeHead(200, { etag: '"e1"', 'content-type': 'application/rss+xml' }).end(rssDoc([{ guid: 'x', title: 'X' }]));
  });
  const h = harness();
  await h.runOnce({ url: server.url('/feed-etag') });
  assert.equal((await h.runOnce({ url: server.url('/feed-etag') })).status, 'ok');
  const sent = server.requests.filter((r) => r.path === '/feed-etag');
  assert.equal(sent.length, 2);
  assert.equal(sent[1]!.headers['if-none-match'], '"e1"');
});

test("a feed's <ttl> spaces the checks out (a restart does not reset it); Check now fetches anyway", async () => {
  server.route('/feed-ttl', respond(200, rssDoc([{ guid: 't1', title: 'T1' }], '<ttl>180</ttl>'), { 'content-type': 'application/rss+xml' }));
  const h = harness('rss:ttl');
  const config = { url: server.url('/feed-ttl'), intervalMinutes: 15 };
  const fetched = () => server.requests.filter((r) => r.path === '/feed-ttl').length;
  assert.equal((await h.runOnce(config)).status, 'ok');
  assert.equal(fetched(), 1);
  const waited = await h.runOnce(config);
  assert.equal(waited.status, 'ok', 'waiting for the ttl is not a failure');
  assert.match(String(waited.message), /asks readers to wait between checks; next check after \d\d:\d\d UTC/);
  assert.equal(fetched(), 1, 'no request before the ttl has passed');

  // The user's "Check now" is a request for a check, whatever the publisher asked for.
  const host = new MonitorHost({
    definitions: new Map<string, MonitorDefinition>([['rss', rss]]),
    stateFor: () => h.states.get('rss:ttl')!,
    emit: async () => {},
    log: silentLogger,
  });
  await host.start({ id: 'rss:ttl', type: 'rss', name: 'ttl', config, secrets: {} });
  await until(() => host.health('rss:ttl')?.status === 'ok');
  assert.equal(fetched(), 1, 'the scheduled first check still waits');
  assert.equal(host.checkNow('rss:ttl'), true);
  await until(() => fetched() === 2);
  await host.stopAll();

  // A ttl no longer than the monitor's own interval changes nothing.
  server.route('/feed-short-ttl', respond(200, rssDoc([{ guid: 's1', title: 'S1' }], '<ttl>5</ttl>'), { 'content-type': 'application/rss+xml' }));
  const short = harness('rss:short-ttl');
  await short.runOnce({ url: server.url('/feed-short-ttl'), intervalMinutes: 15 });
  await short.runOnce({ url: server.url('/feed-short-ttl'), intervalMinutes: 15 });
  assert.equal(server.requests.filter((r) => r.path === '/feed-short-ttl').length, 2);
});

test('sy:updatePeriod / sy:updateFrequency and <ttl> are read from the head of the document only', () => {
  const sy = (period: string, freq?: number) =>
    `<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">` +
    `<channel rdf:about="https://x.test/"><title>S</title><link>https://x.test/</link><sy:updatePeriod>${period}</sy:updatePeriod>${freq ? `<sy:updateFrequency>${freq}</sy:updateFrequency>` : ''}</channel>` +
    `<item rdf:about="https://x.test/1"><title>one</title><link>https://x.test/1</link></item></rdf:RDF>`;
  assert.equal(parseFeedText(sy('hourly', 2), { url: 'https://x.test/feed' }).refreshMinutes, 30);
  assert.equal(parseFeedText(sy('daily'), { url: 'https://x.test/feed' }).refreshMinutes, 1_440);
  assert.equal(parseFeedText(sy('fortnightly'), { url: 'https://x.test/feed' }).refreshMinutes, undefined, 'an unknown period is ignored');
  assert.equal(parseFeedText(rssDoc([{ guid: 'a', title: 'A', description: '&lt;ttl&gt;999&lt;/ttl&gt;' }], '<ttl>60</ttl>'), { url: 'https://x.test/feed' }).refreshMinutes, 60);
  assert.equal(parseFeedText(rssDoc([{ guid: 'a', title: 'A' }]).replace('<item>', '<item><ttl>60</ttl>'), { url: 'https://x.test/feed' }).refreshMinutes, undefined, 'a <ttl> inside an item is not the channel\'s');
});

async function until(ok: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('basic auth: username from config, password from the secret store', async () => {
  server.route('/feed-auth', (req, res) => {
    const ok = req.headers.authorization === 'Basic ' + Buffer.from('ann:s3cret').toString('base64');
    res.writeHead(ok ? 200 : 401).end(ok ? rssDoc([{ guid: 'p', title: 'private' }]) : 'no');
  });
  const h = harness();
  assert.equal((await h.runOnce({ url: server.url('/feed-auth'), username: 'ann' })).status, 'failing');
  assert.match(h.health.at(-1)!.lastError ?? '', /401/);
  assert.equal((await h.runOnce({ url: server.url('/feed-auth'), username: 'ann', emitCurrentItems: true }, { password: 's3cret' })).status, 'ok');
  assert.deepEqual(h.events.map((e) => e.title), ['private']);
});

test('broken sources are health errors with a readable reason, and the monitor keeps running', async () => {
  server.route('/feed-500', respond(500, 'oops'));
  server.route('/feed-garbage', respond(200, Buffer.from([0, 1, 2, 3, 255, 254, 10, 13])));
  server.route('/feed-html', respond(200, '<!DOCTYPE html><html><head><title>Login</title></head><body></body></html>', { 'content-type': 'text/html' }));
  server.route('/feed-reset', resetConnection());
  const cases: Array<[string, RegExp]> = [
    ['/feed-500', /HTTP 500/],
    ['/feed-garbage', /not a feed/],
    ['/feed-html', /HTML page \("Login"\)/],
    ['/feed-reset', /reset|127\.0\.0\.1/],
  ];
  for (const [p, reason] of cases) {
    const h = harness();
    const result = await h.runOnce({ url: server.url(p) });
    assert.equal(result.status, 'failing', p);
    assert.match(result.lastError ?? '', reason, p);
    assert.ok(result.nextRetry, 'a retry is scheduled');
  }
});

test('config: interval below the minimum and non-http URLs are refused with the field named', async () => {
  const bad = rss.configSchema.safeParse({ url: 'file:///etc/passwd', intervalMinutes: 1 });
  assert.equal(bad.success, false);
  const paths = bad.error!.issues.map((i) => i.path.join('.'));
  assert.ok(paths.includes('url') && paths.includes('intervalMinutes'), paths.join(','));
});

test('dry run emits everything in the feed now, with all the fields (Atom, xml:base, enclosure)', async () => {
  const atom = `<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="/blog/">
  <title type="html">My &lt;b&gt;blog&lt;/b&gt;</title>
  <entry>
    <id>tag:x,2025:1</id>
    <title type="text">Episode 1 &lt;live&gt;</title>
    <link rel="alternate" href="posts/1"/>
    <link rel="enclosure" href="media/1.mp3" type="audio/mpeg" length="1234"/>
    <author><name>Ann</name></author>
    <published>2025-06-01T10:00:00Z</published>
    <category term="podcast"/><category term="news" label="News"/>
    <summary type="html">&lt;p&gt;Short &amp;amp; sweet&lt;/p&gt;</summary>
    <content type="html">&lt;p&gt;Full text&lt;/p&gt;</content>
  </entry>
</feed>`;
  server.route('/atom', respond(200, atom, { 'content-type': 'application/atom+xml' }));
  const events = await dryRunMonitor(rss, { url: server.url('/atom') });
  assert.equal(events.length, 1);
  const e = events[0]!;
  assert.equal(e.title, 'Episode 1 <live>');
  assert.equal(e.url, server.url('/blog/posts/1'));
  assert.equal(e.body, 'Short & sweet');
  assert.equal(e.ts, '2025-06-01T10:00:00.000Z');
  assert.equal(e.fields.feedTitle, 'My blog');
  assert.equal(e.fields.author, 'Ann');
  assert.equal(e.fields.published, '2025-06-01T10:00:00.000Z');
  assert.deepEqual(e.fields.categories, ['podcast', 'News']);
  assert.equal(e.fields.contentHtml, '<p>Full text</p>');
  assert.deepEqual(e.fields.enclosure, { url: server.url('/blog/media/1.mp3'), type: 'audio/mpeg', length: 1234 });
  assert.equal(e.fields.guid, 'tag:x,2025:1');
});

test('JSON Feed items come through like any other', async () => {
  const json = JSON.stringify({
    version: 'https://jsonfeed.org/version/1.1',
    title: 'JSON feed',
    items: [{ id: 'j1', url: '/j/1', title: 'Hello JSON', content_html: '<p>Body</p>', date_published: '2025-01-02T03:04:05Z', authors: [{ name: 'Jo' }], tags: ['t'] }],
  });
  server.route('/feed.json', respond(200, json, { 'content-type': 'application/feed+json' }));
  const [e] = await dryRunMonitor(rss, { url: server.url('/feed.json') });
  assert.equal(e?.title, 'Hello JSON');
  assert.equal(e?.url, server.url('/j/1'));
  assert.equal(e?.body, 'Body');
  assert.equal(e?.fields.author, 'Jo');
});

test('charset from the HTTP header decodes a Latin-1 feed', async () => {
  const latin1 = Buffer.from(rssDoc([{ guid: 'l', title: 'Caf\u00e9 cr\u00e8me' }]).replace('encoding="utf-8"', 'encoding="iso-8859-1"'), 'latin1');
  server.route('/latin1', respond(200, latin1, { 'content-type': 'application/rss+xml; charset=ISO-8859-1' }));
  const [e] = await dryRunMonitor(rss, { url: server.url('/latin1') });
  assert.equal(e?.title, 'Café crème');
});

// ---------------------------------------------------------------- identity and the bounded memory

test('identity: guid, else link, else a hash of title+date', () => {
  assert.equal(entryKey({ guid: 'g', link: 'http://x/', title: 't', published: null }), 'g:g');
  assert.equal(entryKey({ guid: null, link: 'http://x/', title: 't', published: null }), 'l:http://x/');
  const a = entryKey({ guid: null, link: null, title: 't', published: '2025-01-01T00:00:00.000Z' });
  const b = entryKey({ guid: null, link: null, title: 't', published: '2025-01-02T00:00:00.000Z' });
  assert.match(a, /^h:/);
  assert.notEqual(a, b);
});

test('the memory is bounded but always keeps every key of the current document', () => {
  const mk = (n: number) => ({ guid: `g${n}`, link: null, title: '', published: null });
  let seen: string[] = [];
  for (let round = 0; round < 30; round++) {
    const doc = Array.from({ length: 20 }, (_, i) => mk(round * 10 + i)).reverse();
    seen = diffEntries(doc, seen, 50).nextSeen;
    assert.ok(seen.length <= 50);
    for (const e of doc) assert.ok(seen.includes(entryKey(e)));
  }
  // Even when the document alone is bigger than the limit, none of its items is forgotten.
  const big = Array.from({ length: 80 }, (_, i) => mk(1000 + i));
  const next = diffEntries(big, seen, 50).nextSeen;
  assert.equal(next.length, 80);
  assert.equal(diffEntries(big, next, 50).fresh.length, 0);
});
