// Keyed state other than count windows must be saved per key (#16): absences, `after` deadlines, sequences' partial
// runs and throttles with a `by` key were kept whole in their rule's shape row, so one event to one key rewrote every
// key's deadline, run or throttle — thousands of keys, rewritten per batch. Bytes written are what the write-ahead log
// grows by (automatic checkpoints off); the worst of five one-event batches among ~100 keys is compared with the
// worst among 3,000.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../core/store/index.js';
import { RuleEngine, type Rule } from '../../rules/index.js';
import type { PanoptesEvent } from '../../core/event.js';
import { newId } from '../../core/ids.js';
import { rules } from '../rules/helpers.js';
import { tempDir } from '../helpers/tmp.js';
import { closeRules, feed, openRules, walGrowth, type RulesOnStore } from './rule-store-helpers.js';

const notify = [{ notify: { title: '{{ fields.k }}' } }];
const kinds: Record<string, Rule[]> = {
  absences: rules([{ id: 'keyed', when: { type: 'webhook.received' }, pattern: { absent: true, within: '1d', by: 'fields.k' }, then: notify }]),
  'after deadlines': rules([
    { id: 'keyed', when: { type: 'deploy.done' }, pattern: { after: { when: { type: 'webhook.received' } }, absent: true, within: '1d', by: 'fields.k' }, then: notify },
  ]),
  'sequence runs': rules([
    { id: 'keyed', when: { type: 'deploy.done' }, pattern: { sequence: [{ when: { type: 'webhook.received' } }, { when: { type: 'deploy.started' } }], within: '1d', by: 'fields.k' }, then: notify },
  ]),
  throttles: rules([{ id: 'keyed', when: { type: 'webhook.received' }, throttle: { per: '1d', by: 'fields.k' }, then: notify }]),
};

const event = (k: string): PanoptesEvent => {
  const at = new Date().toISOString();
  return { id: newId(), ts: at, receivedAt: at, source: 'webhook:ci', type: 'webhook.received', title: 'e', body: '', url: null, fields: { k }, tags: [] };
};

/** A state as JSON without the deadlines' timer order (`seq`), which only means something within one process. */
const json = (st: unknown) => JSON.stringify(st, (k, v: unknown) => (k === 'seq' ? undefined : v));
const ruleState = (s: RulesOnStore) => json((s.engine.snapshot() as { rules: Record<string, unknown> }).rules.keyed);
const keyCount = (s: RulesOnStore) => {
  const st = (s.engine.snapshot() as { rules: Record<string, Record<string, unknown[]>> }).rules.keyed!;
  return st.absences!.length + st.after!.length + st.seqs!.length + st.throttle!.length;
};
const worst = (l: number[]) => Math.max(...l);

for (const [kind, set] of Object.entries(kinds)) {
  test(`${kind} by key: one event among 3,000 keys writes a few pages more than one among 100, not every key; the keys survive a restart in order`, { timeout: 240_000 }, async (t) => {
    const dir = tempDir(t);
    let s = openRules(dir, set);
    await feed(s, Array.from({ length: 100 }, (_, i) => event(`host-${i}`)));
    // Each batch brings a new key or an event to an old one.
    let k = 100;
    const both = () => event(Math.random() < 0.5 ? `host-${k++}` : 'host-7');
    const few = worst(await walGrowth(s, dir, both));
    for (let from = k; k < from + 2_900; ) await feed(s, Array.from({ length: 500 }, () => event(`host-${k++}`)));
    assert.ok(keyCount(s) >= 3_000, `${keyCount(s)} keys held`);
    const many = worst(await walGrowth(s, dir, both));
    t.diagnostic(`${kind}: a one-event batch wrote at most ${few} bytes among ~100 keys, ${many} among ${keyCount(s)}`);
    // Among 3,000 rows the table and its index are a level deeper and a new key may split a page: a few pages more
    // than among 100 (a fresh clone saw 53,560 vs 28,840 bytes for after deadlines), never the whole keyed state again,
    // which was 240–360 KB per one-event batch when every key was rewritten.
    assert.ok(many <= few + 64 * 1024, `one event among ${keyCount(s)} keys wrote ${many} bytes, among 100 keys ${few}: the write grows with the keys`);

    const saved = ruleState(s);
    closeRules(s);
    s = openRules(dir, set);
    t.after(() => closeRules(s));
    assert.equal(ruleState(s), saved, 'the keys, their order and what each holds are back exactly');
  });
}

/** A state in the shape row as the previous version saved it: every key inline, each held event as `{ $ref }`. */
function refsOf(v: unknown, copies: Map<string, unknown>): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => refsOf(x, copies));
  const o = v as Record<string, unknown>;
  if (typeof o.id === 'string' && typeof o.ts === 'string' && Array.isArray(o.tags)) {
    copies.set(o.id, o);
    return { $ref: o.id };
  }
  return Object.fromEntries(Object.entries(o).map(([n, x]) => [n, refsOf(x, copies)]));
}

test('keys saved inline by the previous version are restored exactly and moved to rows on the next batch', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const all = rules(Object.values(kinds).map(([r], i) => ({ ...r!, id: `keyed-${i}` })));
  const old = new RuleEngine();
  old.setRules(all);
  const events = Array.from({ length: 40 }, (_, i) => event(`host-${i % 9}`));
  let now = Date.now();
  for (const e of events) old.process(e, { now: (now += 1_000), flags: {}, timeZone: 'UTC' });
  const snap = old.snapshot() as { rules: Record<string, Record<string, unknown>> };
  const store = openStore(dir);
  store.tx(() => {
    store.events.append(events);
    for (const [rule, st] of Object.entries(snap.rules)) {
      const copies = new Map<string, unknown>();
      const shape = refsOf({ ...st, windows: [], windowRows: 2 }, copies);
      store.db.prepare('INSERT INTO rule_states (rule, state) VALUES (?, ?)').run(rule, JSON.stringify(shape));
      for (const [id, copy] of copies) store.db.prepare('INSERT INTO rule_state_events (rule, event, ref) VALUES (?, ?, ?)').run(rule, id, JSON.stringify(copy));
    }
  });
  store.cursors.set('rules', store.events.maxSeq(), { version: 2, savedIn: 'rule_states' });
  store.close();

  const states = (s: RulesOnStore) => {
    const r = (s.engine.snapshot() as { rules: Record<string, unknown> }).rules;
    return Object.fromEntries(Object.keys(snap.rules).map((id) => [id, json(r[id])]));
  };
  const before = Object.fromEntries(Object.entries(snap.rules).map(([id, st]) => [id, json(st)]));
  let s = openRules(dir, all);
  assert.deepEqual(states(s), before, 'restored exactly as the previous version saved it');
  await feed(s, [event('host-3')]);
  for (const rule of Object.keys(snap.rules)) {
    const shape = s.store.db.prepare(`SELECT state FROM rule_states WHERE rule = ?`).pluck().get(rule) as string;
    assert.ok(!shape.includes('host-') && !shape.includes('$ref'), `the ${rule} shape holds no keys and no events now: ${shape.slice(0, 300)}`);
  }
  const after = states(s);
  closeRules(s);
  s = openRules(dir, all);
  t.after(() => closeRules(s));
  assert.deepEqual(states(s), after, 'restored exactly from the rows');
});
