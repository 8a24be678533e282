// Most rules hold nothing most of the time, and a batch no longer works out their saved shape anew for each of them
// (with 1,000 rules that was most of a batch's time). What is saved must not change: a rule whose window empties lets
// go of its rows and event copies in that batch, and after a restart it holds nothing either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PanoptesEvent } from '../../core/event.js';
import { rules } from '../rules/helpers.js';
import { tempDir } from '../helpers/tmp.js';
import { closeRules, feed, openRules } from './rule-store-helpers.js';

const set = rules([
  { id: 'three', pattern: { count: 3, within: '1h', by: 'fields.host' }, then: [{ notify: { title: '3 from {{ event.fields.host }}' } }] },
  ...Array.from({ length: 50 }, (_, i) => ({ id: `plain${i}`, if: { field: 'title', matches: `\\bsvc${i}\\b` }, then: [{ notify: { title: 'svc' } }] })),
]);

let n = 0;
const event = (host: string): PanoptesEvent => {
  const at = new Date().toISOString();
  const i = n++;
  return { id: `b${String(i).padStart(8, '0')}`, ts: at, receivedAt: at, source: 'webhook:ci', type: 'webhook.received', title: `svc${i % 50} on ${host}`, body: '', url: null, fields: { host }, tags: [] };
};

const savedRows = (s: ReturnType<typeof openRules>) => {
  const rows = s.store.ruleStates.load();
  return { entries: rows.entries.get('three')?.length ?? 0, events: rows.events.get('three')?.size ?? 0, shapes: rows.shapes.size };
};

test('a window that empties lets go of its saved rows in that batch; after a restart the rule holds nothing', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  let s = openRules(dir, set);
  await feed(s, [event('a'), event('a')]);
  assert.deepEqual(savedRows(s), { entries: 3, events: 2, shapes: 51 }, 'two events held: the key row, two entries and two copies; a shape per rule');
  await feed(s, [event('a')]);
  assert.deepEqual(savedRows(s), { entries: 0, events: 0, shapes: 51 }, 'the third fired the rule and emptied its window: nothing of it stays saved');
  await feed(s, [event('b')]);
  assert.deepEqual(savedRows(s), { entries: 2, events: 1, shapes: 51 });

  closeRules(s);
  s = openRules(dir, set);
  t.after(() => closeRules(s));
  await feed(s, [event('a'), event('a')]);
  const snap = s.engine.snapshot() as { rules: Record<string, { windows: [string, { times: number[] }][] }> };
  assert.deepEqual(
    snap.rules.three!.windows.map(([k, w]) => [k, w.times.length]),
    [['b', 1], ['a', 2]],
    'after the restart "a" starts from nothing (two held, not fired) and "b" still holds its one',
  );
});
