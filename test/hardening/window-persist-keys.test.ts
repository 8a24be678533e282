// What one batch writes for the rules' windows must follow what the batch changed (#16): a digest gathering events
// kept them all in its rule's shape row, rewritten with every event it gathered, and a window's key list was part of
// that row too, rewritten whenever a key came or went. Bytes written are what the write-ahead log grows by
// (automatic checkpoints off, so it only grows); the worst of five one-event batches is compared between a small and
// a large digest, and between few and many keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../core/store/index.js';
import { RuleEngine } from '../../rules/index.js';
import type { PanoptesEvent } from '../../core/event.js';
import { newId } from '../../core/ids.js';
import { rules } from '../rules/helpers.js';
import { tempDir } from '../helpers/tmp.js';
import { closeRules, feed, openRules, walGrowth, type RulesOnStore } from './rule-store-helpers.js';

const digestRule = rules([{ id: 'dg', when: { type: 'webhook.received' }, digest: { every: '1d' }, then: [{ notify: { title: '{{ count }} events' } }] }]);
const keyedRule = rules([{ id: 'keys', when: { type: 'webhook.received' }, pattern: { count: 10_000, within: '1d', by: 'fields.k' }, then: [{ notify: { title: 'many' } }] }]);

const event = (k = 'a'): PanoptesEvent => {
  const at = new Date().toISOString();
  // Real ids (ULIDs): what a held event costs in a shape is mostly its id.
  return { id: newId(), ts: at, receivedAt: at, source: 'webhook:ci', type: 'webhook.received', title: 'e', body: '', url: null, fields: { k }, tags: [] };
};

const worst = (l: number[]) => Math.max(...l);
/** The middle one: a B-tree page split now and then adds two or three pages to one batch, whichever the digest. */
const median = (l: number[]) => [...l].sort((a, b) => a - b)[l.length >> 1]!;

const ruleState = (s: RulesOnStore, id: string) => JSON.stringify((s.engine.snapshot() as { rules: Record<string, unknown> }).rules[id]);
const digestHeld = (s: RulesOnStore) => (s.engine.snapshot() as { rules: Record<string, { digest: { events: unknown[] } | null }> }).rules.dg!.digest?.events.length ?? 0;
const keyCount = (s: RulesOnStore) => (s.engine.snapshot() as { rules: Record<string, { windows: unknown[] }> }).rules.keys!.windows.length;

test('one event into a digest holding 190 writes no more than one into a digest holding 10; a restart restores it exactly', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  let s = openRules(dir, digestRule);
  await feed(s, Array.from({ length: 5 }, () => event()));
  const few = await walGrowth(s, dir, () => event(), 7);
  await feed(s, Array.from({ length: 178 }, () => event()));
  assert.equal(digestHeld(s), 190);
  const many = await walGrowth(s, dir, () => event(), 7);
  t.diagnostic(`one-event batches wrote ${few.join(', ')} bytes into a digest of 5–11, ${many.join(', ')} into one of 190–196`);
  // The 190 events' ids alone are ~7 KB: rewritten with every event, each batch writes two pages more.
  assert.ok(median(many) <= median(few) + 2_048, `one event into a digest of 190 wrote ${median(many)} bytes (median), into one of 10 ${median(few)}: the write grows with the digest`);

  // Past the digest's 200-event limit the oldest are let go: still restored exactly, in order.
  await feed(s, Array.from({ length: 30 }, () => event()));
  const saved = ruleState(s, 'dg');
  closeRules(s);
  s = openRules(dir, digestRule);
  t.after(() => closeRules(s));
  assert.equal(ruleState(s, 'dg'), saved, 'the digest is back exactly as it was');
  await feed(s, [event()]);
  assert.equal(digestHeld(s), 200);
});

test('one event into a window among 3,000 keys writes no more than one among 100 keys; keys and their order survive a restart', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  let s = openRules(dir, keyedRule);
  await feed(s, Array.from({ length: 100 }, (_, i) => event(`host-${i}`)));
  // Each batch brings a new key and an event to an old one: keys come, and the list of keys must not be written again.
  let k = 100;
  const both = () => event(Math.random() < 0.5 ? `host-${k++}` : 'host-7');
  const few = worst(await walGrowth(s, dir, both));
  for (let from = k; k < from + 2_900; ) await feed(s, Array.from({ length: 500 }, () => event(`host-${k++}`)));
  assert.ok(keyCount(s) >= 3_000);
  const many = worst(await walGrowth(s, dir, both));
  t.diagnostic(`a one-event batch wrote at most ${few} bytes among ~100 keys, ${many} among ${keyCount(s)}`);
  assert.ok(many <= few * 1.5 + 4_096, `one event among ${keyCount(s)} keys wrote ${many} bytes, among 100 keys ${few}: the write grows with the keys`);

  const saved = ruleState(s, 'keys');
  closeRules(s);
  s = openRules(dir, keyedRule);
  t.after(() => closeRules(s));
  assert.equal(ruleState(s, 'keys'), saved, 'the keys, their order and their windows are back exactly');
});

test('state saved by the previous version (key list and digest events in the shape, migration 8) is restored exactly and moved to rows', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  // The previous version's form: windows' keys in the shape (`windowRows: 1`), their entries as rows, the digest's
  // events inline as `{ $ref }`, the copies beside them.
  const both = rules([...digestRule, ...keyedRule]);
  const old = new RuleEngine();
  old.setRules(both);
  const events = Array.from({ length: 30 }, (_, i) => event(`host-${i % 7}`));
  for (const e of events) old.process(e, { now: Date.now(), flags: {}, timeZone: 'UTC' });
  const snap = old.snapshot() as { rules: Record<string, Record<string, unknown>> };
  const store = openStore(dir);
  const ins = (sql: string, ...args: unknown[]) => store.db.prepare(sql).run(...args);
  let ord = 1;
  store.tx(() => {
    store.events.append(events);
    for (const e of events) {
      const copy = (snap.rules.dg!.digest as { events: { id: string }[] }).events.find((c) => c.id === e.id);
      ins('INSERT OR IGNORE INTO rule_state_events (rule, event, ref) VALUES (?, ?, ?)', 'dg', e.id, JSON.stringify(copy));
      const w = (snap.rules.keys!.windows as [string, { times: number[]; events: { id: string }[] }][]).find(([, w]) => w.events.some((c) => c.id === e.id))!;
      const i = w[1].events.findIndex((c) => c.id === e.id);
      ins('INSERT INTO rule_state_events (rule, event, ref) VALUES (?, ?, ?)', 'keys', e.id, JSON.stringify(w[1].events[i]));
      ins('INSERT INTO rule_window_entries (rule, key, entry, ord, time, ref) VALUES (?, ?, ?, ?, ?, ?)', 'keys', w[0], e.id, ord++, w[1].times[i], e.id);
    }
    const dg = snap.rules.dg!;
    const d = dg.digest as { deadline: number; count: number; events: { id: string }[] };
    ins('INSERT INTO rule_states (rule, state) VALUES (?, ?)', 'dg', JSON.stringify({ ...dg, windows: [], windowRows: 1, digest: { ...d, events: d.events.map((e) => ({ $ref: e.id })) } }));
    const ks = snap.rules.keys!;
    ins('INSERT INTO rule_states (rule, state) VALUES (?, ?)', 'keys', JSON.stringify({ ...ks, windows: (ks.windows as [string][]).map(([k]) => [k, null]), windowRows: 1 }));
  });
  store.cursors.set('rules', store.events.maxSeq(), { version: 2, savedIn: 'rule_states' });
  store.close();

  const before = { dg: JSON.stringify(snap.rules.dg), keys: JSON.stringify(snap.rules.keys) };
  let s = openRules(dir, both);
  assert.deepEqual({ dg: ruleState(s, 'dg'), keys: ruleState(s, 'keys') }, before, 'restored exactly as the previous version saved it');
  await feed(s, [event('host-3')]);
  for (const rule of ['dg', 'keys']) {
    const shape = s.store.db.prepare(`SELECT state FROM rule_states WHERE rule = ?`).pluck().get(rule) as string;
    assert.ok(!shape.includes('$ref') && !shape.includes('host-'), `the ${rule} shape holds no events and no keys now: ${shape.slice(0, 300)}`);
  }
  const after = { dg: ruleState(s, 'dg'), keys: ruleState(s, 'keys') };
  closeRules(s);
  s = openRules(dir, both);
  t.after(() => closeRules(s));
  assert.deepEqual({ dg: ruleState(s, 'dg'), keys: ruleState(s, 'keys') }, after, 'restored exactly from the rows');
});
