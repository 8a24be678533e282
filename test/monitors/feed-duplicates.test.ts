/**
 * One duplicate check for feeds: the rss type's own `sources` declaration (the feed's address as a URL, so
 * `http://host:port` and `http://host:port/` are one feed) answers the monitor form (`monitors.validate`), the
 * first-run guide's feed discovery (`monitors.discoverFeed`) and OPML imports alike.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { startTestServer } from '../helpers/http-server.js';
import { rssFeed } from '../helpers/feeds.js';
import { tempDir } from '../helpers/tmp.js';

test('a feed watched under another spelling of its address is named by discovery and skipped by an OPML import, as the form names it', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  // The site's address is its feed: discovery finds `http://127.0.0.1:PORT/` (with the slash, as URLs are written).
  server.route('/', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/rss+xml' });
    res.end(rssFeed('Root Feed', [{ guid: 'a', title: 'One', link: 'http://127.0.0.1/a' }]));
  });
  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, seedDefaultRules: false, startMonitors: false });
  t.after(() => engine.close());
  // Typed without the trailing slash; the second one with the https default port spelled out.
  await engine.request('monitors.add', { type: 'rss', name: 'Mine', config: { url: server.origin } });
  await engine.request('monitors.add', { type: 'rss', name: 'Example', config: { url: 'https://example.org:443/feed.xml' } });

  const form = (await engine.request('monitors.validate', { type: 'rss', config: { url: server.origin + '/' } })) as { sameAs?: { name: string } | null };
  assert.equal(form.sameAs?.name, 'Mine', 'the form knows it is the same feed');

  const found = (await engine.request('monitors.discoverFeed', { url: server.origin })) as { feeds: { url: string; watchedBy: string | null }[] };
  assert.deepEqual(
    found.feeds.map((f) => [f.url, f.watchedBy]),
    [[server.origin + '/', 'Mine']],
  );

  const opml = `<?xml version="1.0"?><opml version="2.0"><body><outline type="rss" text="Ex" xmlUrl="https://example.org/feed.xml"/><outline type="rss" text="Root" xmlUrl="${server.origin}/"/></body></opml>`;
  const imported = (await engine.request('monitors.importOpml', { opml })) as { added: string[]; skipped: string[] };
  assert.deepEqual(imported.added, [], 'both feeds are watched already');
  assert.equal(imported.skipped.length, 2);
});
