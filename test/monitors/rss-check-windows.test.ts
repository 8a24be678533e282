// Feeds have check windows like pages ("only on weekdays or between hours"): outside them the feed is not fetched,
// its health says when the next check is, "Check now" checks anyway; a window open now checks as usual (#19).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import rss, { rssConfigSchema } from '../../monitors/rss/index.js';
import web from '../../monitors/web/index.js';
import { MonitorHost } from '../../core/monitor-host.js';
import { memoryState } from '../../core/store/monitor-state-store.js';
import { silentLogger } from '../../core/log.js';
import type { MonitorDefinition, MonitorHealth, MonitorState } from '../../core/monitor.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';
import { waitFor } from './web-test-context.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

const feed = `<?xml version="1.0"?><rss version="2.0"><channel><title>F</title><link>http://x/</link><description>d</description><item><title>Item</title><link>http://x/1</link><guid>g1</guid></item></channel></rss>`;

/** Local time `minutes` from now, "HH:MM". */
function hhmm(minutes: number): string {
  const d = new Date(Date.now() + minutes * 60_000);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

function makeHost() {
  const health = new Map<string, MonitorHealth>();
  const states = new Map<string, MonitorState>();
  const host = new MonitorHost({
    definitions: new Map<string, MonitorDefinition>([['rss', rss as MonitorDefinition]]),
    stateFor: (id) => {
      if (!states.has(id)) states.set(id, memoryState());
      return states.get(id)!;
    },
    emit: async (id, _e, st) => {
      for (const [k, v] of Object.entries(st ?? {})) states.get(id)!.set(k, v);
    },
    log: silentLogger,
    onHealth: (h) => void (h.status !== 'stopped' && health.set(h.monitorId, { ...h })),
    random: () => 0,
  });
  return { host, health };
}

test('feed check windows: not fetched outside them, health says when; Check now checks; an open window checks', async () => {
  let asked = 0;
  server.route('/windows/feed.xml', (_req, res) => {
    asked++;
    res.writeHead(200, { 'content-type': 'application/rss+xml' });
    res.end(feed);
  });
  const h = makeHost();
  const start = hhmm(120);
  try {
    await h.host.start({ id: 'rss:win', type: 'rss', name: 'Windowed', config: { url: server.url('/windows/feed.xml'), checkWindows: [{ start, end: hhmm(180) }] }, secrets: {} });
    await waitFor(() => h.health.get('rss:win')?.status === 'ok', 'the first (skipped) check');
    assert.equal(asked, 0, 'not fetched outside the check windows');
    assert.match(h.health.get('rss:win')!.message ?? '', new RegExp(`outside.*check window.*${start}`, 'i'));
    h.host.checkNow('rss:win');
    await waitFor(() => asked === 1, 'Check now to fetch the feed anyway');
  } finally {
    await h.host.stopAll();
  }
  const h2 = makeHost();
  try {
    await h2.host.start({ id: 'rss:open', type: 'rss', name: 'Open', config: { url: server.url('/windows/feed.xml'), checkWindows: [{ start: hhmm(-60), end: hhmm(60) }] }, secrets: {} });
    await waitFor(() => asked === 2 && h2.health.get('rss:open')?.status === 'ok', 'a check inside the window');
  } finally {
    await h2.host.stopAll();
  }
});

test('the feed form offers the same check-window field as pages, checked the same way', () => {
  const rssField = (rssConfigSchema.shape as Record<string, unknown>).checkWindows;
  assert.ok(rssField, 'rss has a checkWindows field');
  const webShape = (web.configSchema as unknown as { shape: Record<string, { meta(): { label?: string } | undefined }> }).shape;
  assert.equal((rssField as { meta(): { label?: string } }).meta()?.label, webShape.checkWindows!.meta()?.label);
  const bad = rssConfigSchema.safeParse({ url: 'https://example.com/feed', checkWindows: [{ start: '25:00', end: '08:00' }] });
  assert.equal(bad.success, false);
  assert.equal(bad.error!.issues[0]!.path.join('.'), 'checkWindows.0.start');
});
