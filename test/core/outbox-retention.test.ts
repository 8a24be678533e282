// Finished actions are kept a week for inspection (dead letters a month) and then go, however many there are; and the
// outbox's lookups stay index walks as it grows, so the dispatcher's and the sweep's queries do not slow down with a
// week of history.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../core/store/migrations.js';
import { openStore } from '../../core/store/index.js';
import { silentLogger } from '../../core/log.js';
import { defaultConfig } from '../../core/config/schema.js';
import { RetentionSweeper } from '../../engine/retention.js';

const DAY = 86_400_000;

test('the retention sweep keeps coming back until every finished action older than a week is gone', (t) => {
  const store = openStore(':memory:');
  t.after(() => store.close());
  const now = Date.now();
  const old = new Date(now - 8 * DAY).toISOString();
  const recent = new Date(now - DAY).toISOString();
  store.tx(() => {
    // 1,200 actions finished 8 days ago (a chatty rule: two an hour for a week is 336; a webhook a minute is 10,080),
    // 10 finished yesterday, 3 dead letters 8 days old (kept a month), 2 still waiting.
    for (let i = 0; i < 1_200; i++) {
      store.outbox.add('r1', `old-${String(i).padStart(5, '0')}`, 0, { webhook: { url: 'http://127.0.0.1:1/' } }, 'inflight', 'webhook:127.0.0.1:1');
      store.outbox.markDone({ ruleId: 'r1', eventId: `old-${String(i).padStart(5, '0')}`, actionIndex: 0 });
    }
    for (let i = 0; i < 10; i++) {
      store.outbox.add('r1', `recent-${i}`, 0, { webhook: { url: 'http://127.0.0.1:1/' } }, 'inflight', 'webhook:127.0.0.1:1');
      store.outbox.markDone({ ruleId: 'r1', eventId: `recent-${i}`, actionIndex: 0 });
    }
    for (let i = 0; i < 3; i++) {
      store.outbox.add('r1', `dead-${i}`, 0, { webhook: { url: 'http://127.0.0.1:1/' } }, 'inflight', 'webhook:127.0.0.1:1');
      store.outbox.markFailed({ ruleId: 'r1', eventId: `dead-${i}`, actionIndex: 0 }, 'refused');
    }
    for (let i = 0; i < 2; i++) store.outbox.add('r1', `waiting-${i}`, 0, { webhook: { url: 'http://127.0.0.1:1/' } }, 'pending', 'webhook:127.0.0.1:1');
    store.db.prepare(`UPDATE outbox SET done_at = ? WHERE event_id LIKE 'old-%' OR event_id LIKE 'dead-%'`).run(old);
    store.db.prepare(`UPDATE outbox SET done_at = ? WHERE event_id LIKE 'recent-%'`).run(recent);
  });
  const sweeper = new RetentionSweeper(store, () => defaultConfig(), silentLogger);
  // The scheduler comes back in 200 ms while a sweep deleted something, else in ten minutes: a sweep that pruned a
  // batch of old actions must say so, or 1,200 rows take three sweeps (30 minutes) and a busy outbox never catches up.
  let sweeps = 0;
  while (sweeper.sweepSome(now) > 0) assert.ok(++sweeps < 20, 'the sweep keeps saying it deleted something');
  const left = store.db.prepare(`SELECT substr(event_id, 1, instr(event_id, '-') - 1) AS kind, status, COUNT(*) AS n FROM outbox GROUP BY 1, 2 ORDER BY 1`).all();
  assert.deepEqual(left, [
    { kind: 'dead', status: 'failed', n: 3 },
    { kind: 'recent', status: 'done', n: 10 },
    { kind: 'waiting', status: 'pending', n: 2 },
  ]);
});

test("the outbox's queries walk indexes, not the whole table", (t) => {
  const store = openStore(':memory:');
  t.after(() => store.close());
  // Query plans of the statements the dispatcher runs on every turn and the sweep on every pass (SQLite says SCAN
  // for a full walk of a table, SEARCH for an index lookup).
  const plans: Record<string, string> = {
    due: `SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= 1 ORDER BY created_at, event_id, action_index LIMIT 10`,
    laneDue: `SELECT * FROM outbox WHERE lane = 'x' AND status = 'pending' AND next_attempt_at <= 1 ORDER BY next_attempt_at, created_at LIMIT 10`,
    laneNext: `SELECT MIN(next_attempt_at) FROM outbox WHERE lane = 'x' AND status = 'pending'`,
    nextDue: `SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'`,
    deadLetters: `SELECT * FROM outbox WHERE status = 'failed' ORDER BY done_at DESC LIMIT 10`,
    countDeadLetters: `SELECT COUNT(*) FROM outbox WHERE status = 'failed'`,
  };
  for (const [name, sql] of Object.entries(plans)) {
    const plan = (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
    assert.doesNotMatch(plan, /^SCAN outbox$|SCAN outbox(?! USING)/m, `${name}: ${plan}`);
  }
  const prune = store.db.prepare(`EXPLAIN QUERY PLAN ${store.outbox.pruneSql}`).all('2030-01-01', '2029-12-01') as { detail: string }[];
  assert.doesNotMatch(prune.map((r) => r.detail).join('; '), /SCAN outbox(?! USING)/, 'prune');
});

test('actions stored before the outbox was re-keyed by event are all there after the upgrade, each where it was', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-outbox-upgrade-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A data folder at schema 8 (the release before), with a waiting, a finished, an interrupted and a dead action.
  const old = new Database(path.join(dir, 'panoptes.db'));
  old.pragma('journal_mode = WAL');
  for (let v = 0; v < 8; v++) old.exec(MIGRATIONS[v]!);
  old.pragma('user_version = 8');
  const put = old.prepare(
    `INSERT INTO outbox (rule_id, event_id, action_index, action, status, attempts, next_attempt_at, last_error, created_at, done_at, lane) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const hook = JSON.stringify({ webhook: { url: 'http://127.0.0.1:1/' } });
  put.run('r2', 'e1', 0, hook, 'pending', 2, 1_000, 'refused', '2030-01-01T00:00:00.000Z', null, 'webhook:127.0.0.1:1');
  put.run('r1', 'e1', 0, hook, 'done', 1, 0, null, '2030-01-01T00:00:00.000Z', '2030-01-01T00:00:01.000Z', 'webhook:127.0.0.1:1');
  put.run('r1', 'e2', 1, hook, 'inflight', 0, 0, null, '2030-01-01T00:00:02.000Z', null, 'webhook:127.0.0.1:1');
  put.run('r3', 'e0', 0, hook, 'failed', 5, 0, 'gone', '2029-12-31T00:00:00.000Z', '2029-12-31T00:05:00.000Z', 'webhook:127.0.0.1:1');
  old.close();

  const store = openStore(dir);
  t.after(() => store.close());
  const rows = store.db.prepare(`SELECT rule_id, event_id, action_index, status, attempts, last_error, lane FROM outbox ORDER BY rule_id`).all();
  assert.deepEqual(rows, [
    { rule_id: 'r1', event_id: 'e1', action_index: 0, status: 'done', attempts: 1, last_error: null, lane: 'webhook:127.0.0.1:1' },
    { rule_id: 'r1', event_id: 'e2', action_index: 1, status: 'inflight', attempts: 0, last_error: null, lane: 'webhook:127.0.0.1:1' },
    { rule_id: 'r2', event_id: 'e1', action_index: 0, status: 'pending', attempts: 2, last_error: 'refused', lane: 'webhook:127.0.0.1:1' },
    { rule_id: 'r3', event_id: 'e0', action_index: 0, status: 'failed', attempts: 5, last_error: 'gone', lane: 'webhook:127.0.0.1:1' },
  ]);
  assert.deepEqual(store.outbox.laneDue('webhook:127.0.0.1:1', 2_000, 10).map((i) => i.ruleId), ['r2']);
  assert.deepEqual(store.outbox.deadLetters().map((i) => i.ruleId), ['r3']);
  assert.equal(store.outbox.add('r1', 'e1', 0, JSON.parse(hook)), false, 'an action already stored is not enqueued again');
  assert.deepEqual(store.outbox.recoverInflight(() => true), { requeued: 1, abandoned: 0 });
});
