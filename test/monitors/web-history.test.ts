// Every distinct version of a watched page is kept in the engine's store (compressed, deduplicated, bounded per
// watch), the protocol lists them and diffs any two, and a change event names the monitor, sums up the change and
// links to its versions.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import web from '../../monitors/web/index.js';
import { openStore } from '../../core/store/index.js';
import { versionHandlers } from '../../engine/handlers/versions.js';
import type { HandlerHost } from '../../engine/handlers/host.js';
import { startAndTick } from './web-test-context.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';

let server: TestServer;
let html = '';
before(async () => {
  server = await startTestServer();
  server.route('/', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(html);
  });
});
after(() => server.close());

test('versions: distinct ones kept once, compressed, newest always kept, bounded by count and age, gone with the monitor', () => {
  const store = openStore(':memory:');
  const v = store.versions;
  const big = 'line of a long page\n'.repeat(5000);
  const a = v.add('m', big, { at: 1000 });
  assert.deepEqual(a, { id: a.id, created: true });
  assert.deepEqual(v.add('m', big, { at: 2000 }), { id: a.id, created: false }, 'the same text again is not a new version');
  const b = v.add('m', 'short', { at: 3000 });
  v.add('m', big, { at: 4000 });
  assert.equal(v.list('m').length, 3, 'a flip back is a version of its own');
  const blobs = store.db.prepare('SELECT COUNT(*) AS n, SUM(LENGTH(data)) AS bytes FROM version_blobs').get() as { n: number; bytes: number };
  assert.equal(blobs.n, 2, 'contents stored once by hash');
  assert.ok(blobs.bytes < big.length / 20, `compressed (${blobs.bytes} bytes for ${big.length} characters)`);
  assert.equal(v.get(b.id)!.text, 'short');

  for (let i = 0; i < 10; i++) v.add('n', `text ${i}`, { at: 10_000 + i, limits: { maxCount: 3, maxAgeMs: 1e12 } });
  assert.deepEqual(v.list('n').map((r) => v.get(r.id)!.text), ['text 9', 'text 8', 'text 7']);
  v.add('o', 'old', { at: 0 });
  v.add('o', 'new', { at: 100 * 86_400_000, limits: { maxCount: 100, maxAgeMs: 30 * 86_400_000 } });
  assert.deepEqual(v.list('o').map((r) => v.get(r.id)!.text), ['new'], 'older than the age limit');
  v.add('p', 'only', { at: 0, limits: { maxCount: 100, maxAgeMs: 1 } });
  v.add('p', 'only', { at: 1e9, limits: { maxCount: 100, maxAgeMs: 1 } });
  assert.equal(v.list('p').length, 1, 'the newest stays whatever its age');
  v.clear('n');
  assert.equal(v.list('n').length, 0);
  const left = store.db.prepare('SELECT COUNT(*) AS n FROM version_blobs').pluck().get() as number;
  assert.equal(left, 4, 'no orphan contents left behind (m: 2, o: 1, p: 1)');
  store.close();
});

test('a watched page: versions stored per check, the event names the monitor, sums up the change, links to the diff; the protocol diffs any two', async () => {
  const store = openStore(':memory:');
  const id = 'web:test';
  html = '<h1>Releases</h1><ul><li>1.0 stable</li><li>1.1 beta</li></ul>';
  const t = await startAndTick(web, { url: server.origin }, { extra: { name: 'Releases page', versions: store.versions.forMonitor(id) } });
  await t.tick();
  html = '<h1>Releases</h1><ul><li>1.0 stable</li><li>1.1 stable</li><li>1.2 beta</li><li>2.0 alpha</li></ul>';
  await t.tick();
  assert.deepEqual(t.errors, []);
  assert.equal(t.events.length, 1);
  const e = t.events[0]!;
  assert.match(e.title!, /^Releases page: \+3 lines, −1/);
  assert.equal(e.fields!.summary, '+3 lines, −1');
  const list = store.versions.list(id);
  assert.equal(list.length, 2);
  assert.equal(e.fields!.versionId, list[0]!.id);
  assert.equal(e.fields!.previousVersionId, list[1]!.id);
  assert.equal(e.fields!.diffLink, `#/history?versions=web%3Atest&from=${list[1]!.id}&to=${list[0]!.id}`, 'the link names both versions of this change');

  const h = versionHandlers({ store } as unknown as HandlerHost);
  const listed = await h['versions.list']({ monitorId: id });
  assert.equal(listed.versions.length, 2);
  const lines = await h['versions.diff']({ to: list[0]!.id });
  assert.ok(lines);
  assert.equal(lines.summary, '+3 lines, −1');
  assert.deepEqual(lines.parts.filter((p) => p.removed).map((p) => p.value), ['1.1 beta\n']);
  const words = await h['versions.diff']({ from: list[1]!.id, to: list[0]!.id, mode: 'words' });
  assert.equal(words!.parts.filter((p) => !p.removed).map((p) => p.value).join(''), 'Releases\n1.0 stable\n1.1 stable\n1.2 beta\n2.0 alpha');
  assert.equal(words!.parts.filter((p) => !p.added).map((p) => p.value).join(''), 'Releases\n1.0 stable\n1.1 beta');
  assert.ok(words!.parts.some((p) => p.added && p.value.includes('alpha')));
  assert.equal((await h['versions.get']({ id: list[1]!.id }))!.text, 'Releases\n1.0 stable\n1.1 beta');
  assert.equal(await h['versions.diff']({ to: 999_999 }), null);
  await t.stop();
  store.close();
});
