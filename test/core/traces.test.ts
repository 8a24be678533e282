// A rule's traces ("why did this fire") are its last N firings: lists show exactly those, newest first; they are
// written behind the firing (about once a second, and before any list), so a rule firing on every event stores at
// most N rows a write instead of a row per firing; a rolled-back transaction leaves none; they survive a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../../core/store/index.js';
import type { Rule } from '../../rules/index.js';
import { closeRules, feed, openRules } from '../hardening/rule-store-helpers.js';
import { waitFor } from '../helpers/tmp.js';

/** One firing of `ruleId` in a transaction of its own, kept once it committed (as the rule processor does). */
function fire(store: Store, ruleId: string, n: number): void {
  store.tx(() => store.traces.add(ruleId, new Date().toISOString(), [`${ruleId}-${n}`], { n }));
  store.traces.keep(store.traces.takeAdded());
}

const rows = (store: Store, ruleId?: string) =>
  (ruleId
    ? store.db.prepare(`SELECT COUNT(*) FROM traces WHERE rule_id = ?`).pluck().get(ruleId)
    : store.db.prepare(`SELECT COUNT(*) FROM traces`).pluck().get()) as number;
/** Rows ever inserted (the table's AUTOINCREMENT counter). */
const inserted = (store: Store) => (store.db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'traces'`).pluck().get() as number | undefined) ?? 0;

test("a rule's last N traces are listed newest first, and a busy rule writes N rows a write, not one a firing", (t) => {
  const store = openStore(':memory:');
  t.after(() => store.close());
  store.traces.limitPerRule = 5;
  for (let i = 1; i <= 200; i++) {
    fire(store, 'busy', i);
    if (i % 20 === 0) fire(store, 'quiet', i / 20);
    if (i % 100 === 0) store.traces.write();
  }
  // Two writes: at most 5 rows each for either rule.
  assert.ok(inserted(store) <= 2 * (5 + 5), `rows inserted over two writes: ${inserted(store)}`);
  assert.equal(rows(store, 'busy'), 5);
  assert.equal(rows(store, 'quiet'), 5);
  assert.deepEqual(store.traces.list('busy', 500).map((x) => (x.trace as { n: number }).n), [200, 199, 198, 197, 196]);
  assert.deepEqual(store.traces.list('quiet').map((x) => (x.trace as { n: number }).n), [10, 9, 8, 7, 6]);
  // Over all rules: newest first, no rule beyond its 5.
  const all = store.traces.list(undefined, 50);
  assert.equal(all.filter((x) => x.ruleId === 'busy').length, 5);
  assert.equal(all.filter((x) => x.ruleId === 'quiet').length, 5);
  assert.deepEqual(all.slice(0, 2).map((x) => x.ruleId), ['quiet', 'busy']);
  // A list shows what was kept and not written yet.
  fire(store, 'busy', 201);
  assert.equal((store.traces.list('busy')[0]!.trace as { n: number }).n, 201);
  // A lower limit shows at once; storage follows at the next write.
  store.traces.limitPerRule = 2;
  assert.equal(store.traces.list('busy').length, 2);
  fire(store, 'busy', 202);
  store.traces.write();
  assert.equal(rows(store, 'busy'), 2);
});

test("a rolled-back transaction's traces are never kept", (t) => {
  const store = openStore(':memory:');
  t.after(() => store.close());
  assert.throws(() =>
    store.tx(() => {
      store.traces.add('r', new Date().toISOString(), ['e1'], { n: 1 });
      throw new Error('the batch failed');
    }),
  );
  // The processor takes what was added as the transaction ends, and keeps it only when it committed.
  assert.equal(store.traces.takeAdded().length, 1);
  assert.equal(store.traces.takeAdded().length, 0);
  assert.deepEqual(store.traces.list('r'), []);
});

test('traces kept when the store closes are there after a restart, and the first write trims what an earlier run left', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-traces-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = openStore(dir);
  first.traces.limitPerRule = 50;
  for (let i = 0; i < 40; i++) fire(first, 'r', i);
  first.close();
  const again = openStore(dir);
  t.after(() => again.close());
  assert.equal(rows(again), 40);
  again.traces.limitPerRule = 3;
  fire(again, 'r', 40);
  again.traces.write();
  assert.deepEqual(again.traces.list('r').map((x) => (x.trace as { n: number }).n), [40, 39, 38]);
  assert.equal(rows(again), 3);
});

test('the rule processor writes its traces within about a second, a busy rule a handful of rows', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-traces-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rule = { id: 'every', name: 'every event', when: { source: 'test' }, then: [{ tag: { add: ['seen'] } }] } as unknown as Rule;
  const s = openRules(dir, [rule]);
  t.after(() => closeRules(s));
  s.store.traces.limitPerRule = 5;
  let n = 0;
  const event = () => ({ id: `e${String(++n).padStart(4, '0')}`, ts: new Date().toISOString(), receivedAt: new Date().toISOString(), source: 'test', type: 't', title: `event ${n}`, body: '', url: null, fields: {}, tags: [] });
  for (let b = 0; b < 30; b++) await feed(s, [event(), event(), event()]);
  // 90 firings; nothing listed them, so only the processor's own write stores them.
  await waitFor(() => rows(s.store, 'every') === 5, 'the traces written without a list', 10_000);
  assert.ok(inserted(s.store) <= 10, `rows inserted for 90 firings: ${inserted(s.store)}`);
  const stored = s.store.db.prepare(`SELECT event_ids FROM traces ORDER BY id DESC`).pluck().all() as string[];
  assert.deepEqual(stored[0], JSON.stringify(['e0090']), 'the newest trace is of the last event');
});
