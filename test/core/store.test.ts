import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { openStore, toFtsQuery, CorruptDatabaseError } from '../../core/store/index.js';
import { newId } from '../../core/ids.js';
import type { PanoptesEvent } from '../../core/event.js';
import { tempDir } from '../helpers/tmp.js';

function ev(over: Partial<PanoptesEvent> = {}): PanoptesEvent {
  const now = new Date().toISOString();
  return { id: newId(), ts: now, receivedAt: now, source: 'rss:a', type: 'feed.item', title: 'Hello world', body: 'A body', url: null, fields: {}, tags: [], ...over };
}

test('events survive reopening, keep order, and a repeated id is stored once', (t) => {
  const dir = tempDir(t);
  const s1 = openStore(dir);
  const a = ev({ title: 'first' });
  const b = ev({ title: 'second', fields: { n: 2 }, tags: ['x'] });
  assert.equal(s1.events.append([a, b]).length, 2);
  assert.equal(s1.events.append([a]).length, 0, 'redelivered id is dropped');
  s1.close();
  const s2 = openStore(dir);
  const page = s2.events.list({});
  assert.deepEqual(page.events.map((e) => e.title), ['second', 'first']);
  assert.deepEqual(page.events[0]!.fields, { n: 2 });
  assert.deepEqual(page.events[0]!.tags, ['x']);
  s2.close();
});

test('full-text search finds words in title or body, by prefix, and ignores FTS syntax in user input', (t) => {
  const s = openStore(tempDir(t));
  s.events.append([ev({ title: 'Rust 1.80 released', body: 'changelog' }), ev({ title: 'Weather', body: 'Heavy rain expected' }), ev({ title: 'Other', body: 'nothing' })]);
  assert.deepEqual(s.events.list({ search: 'rain' }).events.map((e) => e.title), ['Weather']);
  assert.deepEqual(s.events.list({ search: 'relea' }).events.map((e) => e.title), ['Rust 1.80 released']);
  assert.equal(s.events.list({ search: 'NEAR( "unbalanced' }).events.length, 0);
  assert.equal(toFtsQuery('  '), null);
  s.close();
});

test('keyset pages walk the whole history without gaps or repeats, with filters', (t) => {
  const s = openStore(tempDir(t));
  const all = Array.from({ length: 250 }, (_, i) => ev({ title: `item ${i}`, source: i % 2 ? 'rss:odd' : 'rss:even' }));
  s.events.append(all);
  const seen: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = s.events.list({ source: 'rss:odd', limit: 40, ...(before ? { before } : {}) });
    seen.push(...page.events.map((e) => e.title));
    if (!page.next) break;
    before = page.next;
  }
  assert.equal(seen.length, 125);
  assert.equal(new Set(seen).size, 125);
  assert.equal(seen[0], 'item 249');
  assert.equal(s.events.count({ source: 'rss:*' }), 250);
  s.close();
});

test('retention deletes old events in small batches, per source', (t) => {
  const s = openStore(tempDir(t));
  const old = new Date(Date.now() - 10 * 86_400_000).toISOString();
  s.events.append(Array.from({ length: 30 }, () => ev({ receivedAt: old })));
  s.events.append([ev({ receivedAt: old, source: 'keep:me' }), ev({ title: 'fresh' })]);
  const cutoff = new Date(Date.now() - 86_400_000).toISOString();
  assert.equal(s.events.deleteOlderThan(cutoff, { exceptSources: ['keep:me'], batch: 20 }), 20);
  assert.equal(s.events.deleteOlderThan(cutoff, { exceptSources: ['keep:me'], batch: 20 }), 10);
  assert.equal(s.events.deleteOlderThan(cutoff, { exceptSources: ['keep:me'], batch: 20 }), 0);
  assert.deepEqual(s.events.list({}).events.map((e) => e.source).sort(), ['keep:me', 'rss:a']);
  assert.equal(s.events.list({ search: 'hello' }).events.length, 1, 'the FTS index follows deletions');
  s.close();
});

test('outbox enqueues a (rule, event, action) once, and after a crash does not repeat non-idempotent actions', (t) => {
  const dir = tempDir(t);
  const s = openStore(dir);
  assert.equal(s.outbox.add('r1', 'e1', 0, { notify: { title: 'x' } }), true);
  assert.equal(s.outbox.add('r1', 'e1', 0, { notify: { title: 'x' } }), false);
  s.outbox.add('r1', 'e1', 1, { webhook: { url: 'http://127.0.0.1:1/' } });
  for (const item of s.outbox.due(Date.now())) s.outbox.markInflight(item);
  s.close();
  const s2 = openStore(dir);
  const r = s2.outbox.recoverInflight((a) => 'webhook' in a);
  assert.deepEqual(r, { requeued: 1, abandoned: 1 });
  assert.deepEqual(s2.outbox.due(Date.now()).map((i) => Object.keys(i.action)[0]), ['webhook']);
  s2.close();
});

test('a file that is not a database is refused with recovery advice, and left untouched', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'panoptes.db');
  writeFileSync(file, 'this is not sqlite at all, but the user might still need it');
  assert.throws(() => openStore(dir), (err: unknown) => err instanceof CorruptDatabaseError && /will not overwrite/.test(err.message) && /\.recover/.test(err.message));
});

test('counting stops at the cap and says there are more', (t) => {
  const s = openStore(tempDir(t));
  s.events.append(Array.from({ length: 30 }, () => ev({ title: 'the same words' })));
  assert.deepEqual(s.events.countUpTo({ search: 'same' }, 10), { count: 10, capped: true });
  assert.deepEqual(s.events.countUpTo({ search: 'same' }, 100), { count: 30, capped: false });
  assert.equal(s.events.list({ search: 'sa', limit: 5 }).events.length, 5, 'a two-letter prefix uses the prefix index');
  assert.equal(s.events.list({ search: 's' }).events.length, 0, 'one letter is a word, not a prefix');
  s.close();
});
