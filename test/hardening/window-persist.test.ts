// The rules' windows are saved with every batch, in the batch's transaction. Saved as one snapshot of the whole state,
// a day-long count window holding 1,500 events of 10 KB rewrote all of it (megabytes) for every new event. What a
// batch writes must follow what the batch changed: the one event it added, not the 1,500 the window already held.
// Bytes written are what the database's write-ahead log grows by (automatic checkpoints off, so it only grows).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../core/store/index.js';
import { RuleEngine } from '../../rules/index.js';
import type { PanoptesEvent } from '../../core/event.js';
import { rules } from '../rules/helpers.js';
import { tempDir } from '../helpers/tmp.js';
import { feed, openRules, walGrowth } from './rule-store-helpers.js';

const HELD = 1_500;
const dayWindow = rules([{ id: 'day', pattern: { count: 10_000, within: '1d' }, then: [{ notify: { title: '{{ count }} today' } }] }]);

let n = 0;
const event = (): PanoptesEvent => {
  const at = new Date().toISOString();
  const i = n++;
  return { id: `w${String(i).padStart(8, '0')}`, ts: at, receivedAt: at, source: 'webhook:ci', type: 'webhook.received', title: `event ${i} `.padEnd(1_200, 't'), body: 'b'.repeat(10_000), url: null, fields: { i }, tags: [] };
};

const held = (engine: RuleEngine) => {
  const snap = engine.snapshot() as { rules: Record<string, { windows: [string, { times: number[] }][] }> };
  return snap.rules.day!.windows.reduce((sum, [, w]) => sum + w.times.length, 0);
};

test('a batch saves what it changed in the windows, not the whole state; the windows survive a restart', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  let s = openRules(dir, dayWindow);
  for (let i = 0; i < HELD; i += 500) await feed(s, Array.from({ length: 500 }, event));
  assert.equal(held(s.engine), HELD);
  const stateBytes = JSON.stringify(s.engine.snapshot()).length;
  // One new event per batch: the log grows by the event itself (stored, then processed) and what processing saved.
  const worst = Math.max(...(await walGrowth(s, dir, event)));
  t.diagnostic(`window state ${stateBytes} bytes; a one-event batch wrote at most ${worst} bytes`);
  assert.ok(stateBytes > 2_000_000, `the window holds megabytes (${stateBytes})`);
  assert.ok(worst < 256 * 1024, `a batch adding one event to a window of ${HELD} wrote ${worst} bytes (want < 256 KiB, the state is ${stateBytes})`);

  s.processor.close();
  s.store.close();
  s = openRules(dir, dayWindow);
  t.after(() => {
    s.processor.close();
    s.store.close();
  });
  assert.equal(held(s.engine), HELD + 5, 'the window is back whole after a restart');
  await feed(s, [event()]);
  assert.equal(held(s.engine), HELD + 6);
});

test('windows saved whole by an older version (one snapshot in the cursor) are restored and moved to rows', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  // What an older version left: the cursor past 20 events, their window saved as one snapshot.
  const old = new RuleEngine();
  old.setRules(dayWindow);
  const events = Array.from({ length: 20 }, event);
  for (const e of events) old.process(e, { now: Date.now(), flags: {}, timeZone: 'UTC' });
  const store = openStore(dir);
  store.tx(() => store.events.append(events));
  store.cursors.set('rules', store.events.maxSeq(), old.snapshot());
  store.close();

  let s = openRules(dir, dayWindow);
  assert.equal(held(s.engine), 20, 'the old snapshot is restored');
  await feed(s, [event()]);
  assert.deepEqual(s.store.cursors.get('rules').state, { version: 2, savedIn: 'rule_states' }, 'the cursor no longer holds the state');
  assert.equal((s.store.db.prepare('SELECT COUNT(*) FROM rule_state_events').pluck().get() as number), 21);
  s.processor.close();
  s.store.close();
  s = openRules(dir, dayWindow);
  t.after(() => {
    s.processor.close();
    s.store.close();
  });
  assert.equal(held(s.engine), 21, 'restored from the rows');
});

// The shape (keys, times, which events a window holds) was still one row per rule, rewritten whenever the rule's
// windows changed: ~50 bytes per held event, so one small event into a window of 9,000 wrote ~370 KB. What a one-event
// batch writes must not grow with the number of events the window already holds.
const bigWindow = dayWindow; // fires at 10,000: it holds up to 9,999
const small = (): PanoptesEvent => {
  const at = new Date().toISOString();
  const i = n++;
  return { id: `s${String(i).padStart(8, '0')}`, ts: at, receivedAt: at, source: 'webhook:ci', type: 'webhook.received', title: 'e', body: '', url: null, fields: {}, tags: [] };
};

test('what a one-event batch writes does not grow with the window it joins (1,500 vs 9,000 held)', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  const open = () => openRules(dir, bigWindow);
  let s = open();
  const perEvent = async () => Math.max(...(await walGrowth(s, dir, small)));
  const fill = async (to: number) => {
    while (held(s.engine) < to) await feed(s, Array.from({ length: Math.min(1_000, to - held(s.engine)) }, small));
  };
  await fill(1_500);
  const at1500 = await perEvent();
  await fill(9_000);
  const at9000 = await perEvent();
  t.diagnostic(`a one-event batch wrote at most ${at1500} bytes with 1,500 held, ${at9000} with 9,000 held`);
  assert.ok(at9000 < at1500 * 1.5 + 16 * 1024, `one event into a window of 9,000 wrote ${at9000} bytes, into one of 1,500 ${at1500}: the write grows with the window`);

  s.processor.close();
  s.store.close();
  s = open();
  t.after(() => {
    s.processor.close();
    s.store.close();
  });
  const heldNow = held(s.engine);
  assert.equal(heldNow, 9_005, 'the window is back whole after a restart');
  await feed(s, [small()]);
  assert.equal(held(s.engine), heldNow + 1);
});

test('shapes saved with their window entries inline (migration 7) are restored and moved to entry rows', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  // What the previous version left: the rule's shape with every entry's time and `{ $ref }`, the copies beside it.
  const old = new RuleEngine();
  old.setRules(dayWindow);
  const events = Array.from({ length: 20 }, small);
  for (const e of events) old.process(e, { now: Date.now(), flags: {}, timeZone: 'UTC' });
  const st = (old.snapshot() as { rules: Record<string, { windows: [string, { times: number[]; events: { id: string }[] }][] }> }).rules.day!;
  const copies = st.windows.flatMap(([, w]) => w.events);
  const inline = { ...st, windows: st.windows.map(([k, w]) => [k, { times: w.times, events: w.events.map((e) => ({ $ref: e.id })) }]) };
  const store = openStore(dir);
  store.tx(() => {
    store.events.append(events);
    store.db.prepare('INSERT INTO rule_states (rule, state) VALUES (?, ?)').run('day', JSON.stringify(inline));
    for (const c of copies) store.db.prepare('INSERT INTO rule_state_events (rule, event, ref) VALUES (?, ?, ?)').run('day', c.id, JSON.stringify(c));
  });
  store.cursors.set('rules', store.events.maxSeq(), { version: 2, savedIn: 'rule_states' });
  store.close();

  let s = openRules(dir, dayWindow);
  assert.equal(held(s.engine), 20, 'the inline shape is restored');
  const before = JSON.stringify((old.snapshot() as { rules: Record<string, unknown> }).rules.day);
  assert.equal(JSON.stringify((s.engine.snapshot() as { rules: Record<string, unknown> }).rules.day), before, 'exactly as it was');
  await feed(s, [small()]);
  const shape = s.store.db.prepare(`SELECT state FROM rule_states WHERE rule = 'day'`).pluck().get() as string;
  assert.ok(!shape.includes('$ref') && !shape.includes('times'), `the shape no longer holds the entries: ${shape.slice(0, 300)}`);
  assert.equal(s.store.db.prepare(`SELECT COUNT(*) FROM rule_window_entries WHERE entry != ''`).pluck().get() as number, 21, 'one row per entry (besides one per window key)');
  const after = JSON.stringify((s.engine.snapshot() as { rules: Record<string, unknown> }).rules.day);
  s.processor.close();
  s.store.close();
  s = openRules(dir, dayWindow);
  t.after(() => {
    s.processor.close();
    s.store.close();
  });
  assert.equal(held(s.engine), 21, 'restored from the entry rows');
  assert.equal(JSON.stringify((s.engine.snapshot() as { rules: Record<string, unknown> }).rules.day), after, 'exactly as saved: times, order, copies');
});
