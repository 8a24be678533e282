// A backfill, with a real monitor: a feed whose items carry no date, added with "Emit current items", is announced
// by its first check as what the feed already held. The monitor marks those events as a backfill, so the center
// folds them from the first item (an undated item cannot be judged by its age); an item that appears later is news
// and is shown as itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { startTestServer } from '../helpers/http-server.js';
import { rssFeed } from '../helpers/feeds.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { BACKFILL_TAG } from '../../core/event.js';

test('a first check that emits an undated feed\'s current items folds them all into one notification; a later item is shown alone', async (t) => {
  const items = Array.from({ length: 8 }, (_, i) => ({ guid: `old-${i}`, title: `Already there ${i}`, link: `http://example.test/${i}`, pubDate: null }));
  const server = await startTestServer();
  t.after(() => server.close());
  server.route('/feed.xml', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/rss+xml' });
    res.end(rssFeed('Undated Feed', items));
  });
  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, seedDefaultRules: false });
  t.after(() => engine.close());
  await engine.request('settings.update', { notifications: { storm: { perRule: 5, overall: 6, windowSeconds: 2 } } });
  await engine.request('rules.save', { rule: { id: 'news', name: 'News', when: { type: 'feed.item' }, then: [{ notify: { title: '{{ title }}' } }] } });
  const added = (await engine.request('monitors.add', { type: 'rss', name: 'Undated', config: { url: server.url('/feed.xml'), emitCurrentItems: true } })) as { id: string };

  const top = () => engine.store.notifications.list({ limit: 100 });
  const fold = await waitFor(() => top().find((n) => n.kind === 'fold' && n.state === 'shown' && n.count === 8), 'one fold of the 8 items', 30_000);
  assert.equal(top().filter((n) => n.kind === 'single').length, 0, 'none of them shown one by one');
  assert.equal(engine.store.notifications.children(fold.id).length, 8, 'every item is inside');
  const stored = engine.store.events.list({ type: 'feed.item' }).events;
  assert.equal(stored.length, 8);
  assert.ok(stored.every((e) => e.tags.includes(BACKFILL_TAG)), 'the first check\'s items carry the backfill mark');
  const why = (await engine.request('notifications.why', { eventId: stored[0]!.id })) as { summary: string };
  assert.match(why.summary, /marked.*backfill/);

  items.unshift({ guid: 'new', title: 'Fresh news', link: 'http://example.test/new', pubDate: null });
  engine.host.checkNow(added.id);
  await waitFor(() => top().find((n) => n.kind === 'single' && n.title === 'Fresh news' && n.state === 'shown'), 'the later item shown as itself', 30_000);
  const fresh = engine.store.events.list({ type: 'feed.item' }).events.find((e) => e.title === 'Fresh news')!;
  assert.ok(!fresh.tags.includes(BACKFILL_TAG), 'a later check\'s item is not a backfill');
});
