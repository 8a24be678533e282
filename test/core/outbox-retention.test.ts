// Finished actions are kept a week for inspection (dead letters a month) and then go, however many there are; and the
// outbox's lookups stay index walks as it grows, so the dispatcher's and the sweep's queries do not slow down with a
// week of history.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
