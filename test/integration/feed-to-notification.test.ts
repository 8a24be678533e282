import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { startTestServer } from '../helpers/http-server.js';
import { rssFeed } from '../helpers/feeds.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { openStore } from '../../core/store/index.js';
import { newId } from '../../core/ids.js';

const RULE = {
  id: 'new-item',
  name: 'Tell me about new feed items',
  enabled: true,
  when: { source: 'rss:*', type: 'feed.item' },
  then: [{ notify: { title: 'New: {{ title }}', body: '{{ fields.feedTitle }}', url: '{{ url }}' } }],
};

test('feed item → event → rule → notification, and a restart neither re-emits the item nor notifies twice', async (t) => {
  const dir = tempDir(t);
  const items = [{ guid: 'a', title: 'Old news', link: 'http://example.test/a' }];
  const server = await startTestServer();
  t.after(() => server.close());
  server.route('/feed.xml', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/rss+xml' });
    res.end(rssFeed('Test Feed', items));
  });

  let engine = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false });
  t.after(() => engine.close());
  await engine.request('rules.save', { rule: RULE });
  const added = (await engine.request('monitors.add', { type: 'rss', name: 'Test feed', config: { url: server.url('/feed.xml') } })) as { id: string };
  assert.equal(added.id, 'rss:test-feed');
  await waitFor(() => engine.healthOf(added.id).lastSuccess, 'first poll (baseline)');
  assert.equal(engine.store.events.count({ type: 'feed.item' }), 0, 'the first poll only records what is there');

  items.unshift({ guid: 'b', title: 'Fresh item', link: 'http://example.test/b' });
  engine.host.checkNow(added.id);
  const [note] = await waitFor(() => { const n = engine.store.notifications.recent(); return n.length ? n : null; }, 'notification');
  assert.equal(note!.title, 'New: Fresh item');
  assert.equal(note!.body, 'Test Feed');
  assert.equal(note!.url, 'http://example.test/b');
  const stored = engine.store.events.list({ type: 'feed.item' }).events;
  assert.deepEqual(stored.map((e) => e.title), ['Fresh item']);
  assert.equal(stored[0]!.source, 'rss:test-feed');

  await engine.close();
  engine = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false });
  const requestsBefore = server.requests.length;
  await waitFor(() => server.requests.length > requestsBefore && engine.healthOf(added.id).status === 'ok', 'poll after restart');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(engine.store.events.count({ type: 'feed.item' }), 1, 'no re-emitted item after restart');
  assert.equal(engine.store.notifications.count(), 1, 'no second notification after restart');
});

test('events stored but not yet through the rules when the process died are processed after restart, exactly once', async (t) => {
  const dir = tempDir(t);
  let engine = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false, startMonitors: false });
  await engine.request('rules.save', { rule: { ...RULE, when: { type: 'feed.item' } } });
  await engine.close();

  // A crash between "stored" and "processed": the event is in the log, the rules cursor is behind it.
  const store = openStore(dir);
  const now = new Date().toISOString();
  store.events.append([{ id: newId(), ts: now, receivedAt: now, source: 'rss:x', type: 'feed.item', title: 'Arrived before the crash', body: '', url: null, fields: {}, tags: [] }]);
  store.close();

  engine = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false, startMonitors: false });
  const notes = await waitFor(() => { const n = engine.store.notifications.recent(); return n.length ? n : null; }, 'notification after restart');
  assert.equal(notes[0]!.title, 'New: Arrived before the crash');
  await engine.close();
  engine = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false, startMonitors: false });
  t.after(() => engine.close());
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(engine.store.notifications.count(), 1);
});

test('a flag set by a rule is visible to the next event, and flag changes are events', async (t) => {
  const dir = tempDir(t);
  const engine = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false, startMonitors: false });
  t.after(() => engine.close());
  await engine.request('rules.replaceAll', {
    rules: [
      { id: 'away', name: 'away on idle', when: { type: 'idle.start' }, then: [{ flag: { set: 'away' } }] },
      { id: 'ping', name: 'notify unless away', when: { type: 'test.ping' }, context: { flags: { away: false } }, then: [{ notify: { title: 'ping {{ title }}' } }] },
    ],
  });
  await engine.emit('test:src', { type: 'test.ping', title: 'one' });
  await waitFor(() => engine.store.notifications.count() === 1, 'first ping notifies');
  await engine.emit('idle:me', { type: 'idle.start', title: 'idle' });
  await engine.emit('test:src', { type: 'test.ping', title: 'two' });
  await waitFor(() => engine.store.events.count({ type: 'flag.set' }) === 1, 'flag.set event');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(engine.store.notifications.count(), 1, 'no notification while away');
  assert.deepEqual((await engine.request('flags.list', {}) as { name: string }[]).map((f) => f.name), ['away']);
});

test('OPML import adds one monitor per new feed, skips watched ones, and export gives them back', async (t) => {
  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, seedDefaultRules: false, startMonitors: false });
  t.after(() => engine.close());
  const opml = `<?xml version="1.0"?><opml version="2.0"><head><title>mine</title></head><body>
    <outline text="Tech"><outline type="rss" text="Alpha" xmlUrl="http://127.0.0.1:1/alpha.xml"/><outline type="rss" text="Beta" xmlUrl="http://127.0.0.1:1/beta.xml"/></outline>
  </body></opml>`;
  const first = (await engine.request('monitors.importOpml', { opml })) as { added: string[]; skipped: string[] };
  assert.deepEqual(first.added, ['rss:alpha', 'rss:beta']);
  const again = (await engine.request('monitors.importOpml', { opml })) as { added: string[]; skipped: string[] };
  assert.deepEqual(again, { added: [], skipped: ['http://127.0.0.1:1/alpha.xml', 'http://127.0.0.1:1/beta.xml'] });
  const out = (await engine.request('monitors.exportOpml', {})) as { opml: string };
  assert.match(out.opml, /xmlUrl="http:\/\/127\.0\.0\.1:1\/alpha\.xml"/);
  await assert.rejects(engine.request('monitors.importOpml', { opml: 'not xml at all' }), /OPML/);
});

test('a new data folder starts with the built-in rules: feed and mail notifications, away/back flags', async (t) => {
  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, startMonitors: false });
  t.after(() => engine.close());
  const { rules, errors } = (await engine.request('rules.list', {})) as { rules: { id: string }[]; errors: unknown[] };
  assert.deepEqual(errors, [], 'every shipped rule is valid');
  assert.ok(rules.some((r) => r.id === 'default-notify-feed-items'));
  assert.ok(rules.some((r) => r.id === 'default-away-on-idle'));
});

test('template preview renders a rule template on a stored event and reports template errors', async (t) => {
  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, startMonitors: false, seedDefaultRules: false });
  t.after(() => engine.close());
  const e = await engine.emit('rss:x', { type: 'feed.item', title: 'Release 2.0', fields: { summary: 'A long summary of many words' } });
  const ok = (await engine.request('rules.preview', { template: '{{ title }} — {{ fields.summary | truncate: 10 }}', eventId: e!.id })) as { text: string; error: string | null };
  assert.deepEqual(ok, { text: 'Release 2.0 — A long ...', error: null, eventId: e!.id });
  const bad = (await engine.request('rules.preview', { template: '{{ title | nosuchfilter }}' })) as { error: string | null };
  assert.match(String(bad.error), /nosuchfilter/);
});

test('the system monitor reports Panoptes’ own numbers from the engine (events stored, lag, store size)', async (t) => {
  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, seedDefaultRules: false });
  t.after(() => engine.close());
  await engine.emit('test:x', { type: 'test.ping', title: 'something stored' });
  await engine.request('monitors.add', { type: 'system', name: 'This machine', config: { interval: '5s' } });
  const health = await waitFor(() => engine.store.events.list({ type: 'panoptes.health' }).events[0], 'panoptes.health event');
  assert.equal(typeof health.fields.eventsStored, 'number');
  assert.ok((health.fields.eventsStored as number) >= 1);
  assert.equal(typeof health.fields.processingLagMs, 'number');
  assert.ok((health.fields.storeBytes as number) > 0);
});

test('a monitor can store its cursor in the same transaction as the event it emits', async (t) => {
  const { z } = await import('zod');
  const dir = tempDir(t);
  const def = {
    type: 'counter', title: 'c', description: 'c', configSchema: z.object({}), events: [],
    create: (ctx: import('../../core/monitor.js').MonitorContext) => ({
      async start() {
        const last = ctx.state.get<number>('last') ?? 0;
        await ctx.emit({ type: 'counter.tick', title: `tick ${last + 1}` }, { state: { last: last + 1 } });
      },
      stop() {},
    }),
  };
  const definitions = new Map([['counter', def as never]]);
  let engine = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false, definitions });
  await engine.config.update((d) => void d.monitors.push({ id: 'counter:a', type: 'counter', name: 'a', enabled: true, config: {} }));
  await engine.syncMonitors();
  await waitFor(() => engine.store.events.count({ type: 'counter.tick' }) === 1, 'first tick');
  assert.equal(engine.store.monitorState.forMonitor('counter:a').get('last'), 1);
  await engine.close();
  engine = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false, definitions });
  t.after(() => engine.close());
  await waitFor(() => engine.store.events.count({ type: 'counter.tick' }) === 2, 'second tick after restart');
  assert.deepEqual(engine.store.events.list({ type: 'counter.tick' }).events.map((e) => e.title), ['tick 2', 'tick 1']);
});
