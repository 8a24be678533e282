// The MQTT monitor's memory of idempotency keys: one small state row per keyed message in a bounded ring, the
// last N kept across restarts, and the list an earlier version kept in one value taken over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeenKeys } from '../../monitors/mqtt/seen-keys.js';
import { memoryState } from '../../core/store/monitor-state-store.js';
import type { MonitorState } from '../../core/monitor.js';

/** A state that counts the rows it holds and what each write costs. */
function countingState(): MonitorState & { rows(): number; written: number[] } {
  const inner = memoryState();
  const keys = new Set<string>();
  const written: number[] = [];
  return {
    get: (k) => inner.get(k),
    set: (k, v) => (keys.add(k), written.push(JSON.stringify(v).length), inner.set(k, v)),
    delete: (k) => (keys.delete(k), inner.delete(k)),
    rows: () => keys.size,
    written,
  };
}

const take = (seen: SeenKeys, state: MonitorState, key: string) => {
  const e = seen.entry(key);
  for (const [k, v] of Object.entries(e.state)) state.set(k, v); // what the engine saves with the event
  e.taken();
};

test('each key is one small row; the ring keeps the last N, the oldest forgotten, also after a restart', () => {
  const state = countingState();
  const seen = new SeenKeys(state, 5);
  for (let i = 1; i <= 8; i++) take(seen, state, `rule:ev${i}:0`);
  assert.equal(state.rows(), 5, 'bounded: one row per slot');
  assert.ok(state.written.every((n) => n < 40), 'every write is one key, not the list');
  assert.deepEqual([1, 2, 3].map((i) => seen.has(`rule:ev${i}:0`)), [false, false, false]);
  assert.deepEqual([4, 5, 6, 7, 8].map((i) => seen.has(`rule:ev${i}:0`)), [true, true, true, true, true]);

  const again = new SeenKeys(state, 5);
  assert.deepEqual([3, 4, 8].map((i) => again.has(`rule:ev${i}:0`)), [false, true, true]);
  take(again, state, 'rule:ev9:0');
  assert.equal(again.has('rule:ev4:0'), false, 'the ring goes on where it stopped: the oldest goes next');
  assert.equal(again.has('rule:ev5:0'), true);
});

test('a key whose event was not stored is not remembered; the list an earlier version saved is taken over', () => {
  const state = countingState();
  const seen = new SeenKeys(state, 5);
  seen.entry('lost');
  assert.equal(seen.has('lost'), false);

  state.set('idempotencyKeys', ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  const upgraded = new SeenKeys(state, 5);
  assert.deepEqual(['a', 'b', 'c', 'g'].map((k) => upgraded.has(k)), [false, false, true, true]);
  assert.equal(state.get('idempotencyKeys'), undefined, 'the old value is gone');
  assert.equal(new SeenKeys(state, 5).has('g'), true, 'and its keys are in the ring');
});
