/**
 * A replay's misses (the rule test's "why did these not fire") list only events that fired nothing, each with what
 * held it back in words: an event a later firing took with it (a count window, a digest) is not a miss, and one
 * waiting in a digest not yet sent says so instead of "the rule fires".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replay, type ReplayMiss } from '../../rules/index.js';
import { ev, rules, T0, MIN } from './helpers.js';

const notify = [{ notify: { title: 'x' } }];

test('events a count window fired with are not misses', () => {
  const r = rules([{ id: 'three', pattern: { count: 3, within: '1h' }, then: notify }]);
  const misses: ReplayMiss[] = [];
  const out = replay(r, [ev(T0), ev(T0 + MIN), ev(T0 + 2 * MIN), ev(T0 + 3 * MIN)], { explainMisses: 100 }, misses);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.events.length, 3);
  assert.equal(misses.length, 1, JSON.stringify(misses));
  assert.match(misses[0]!.reason, /the window holds 0, so this event does not fire it yet/);
});

test('a digest not sent yet says its events wait in it; one sent in the range takes its events along', () => {
  const r = rules([{ id: 'daily', digest: { every: '1h' }, then: notify }]);
  const waiting: ReplayMiss[] = [];
  replay(r, [ev(T0), ev(T0 + MIN)], { explainMisses: 100, until: new Date(T0 + 10 * MIN).toISOString() }, waiting);
  assert.equal(waiting.length, 2);
  for (const m of waiting) assert.match(m.reason, /gathered into the digest sent every 1h/);
  const sent: ReplayMiss[] = [];
  const out = replay(r, [ev(T0), ev(T0 + MIN)], { explainMisses: 100, until: new Date(T0 + 2 * 60 * MIN).toISOString() }, sent);
  assert.equal(out.length, 1);
  assert.deepEqual(sent, []);
});

test('a throttled event is said to be held back by the throttle, with its pace', () => {
  const r = rules([{ id: 'paced', throttle: { per: '15m', by: 'source' }, then: notify }]);
  const misses: ReplayMiss[] = [];
  replay(r, [ev(T0), ev(T0 + MIN)], { explainMisses: 100 }, misses);
  assert.equal(misses.length, 1);
  assert.match(misses[0]!.reason, /^matches, but its throttle holds the firing back: one per 15m for "rss:hn", the last at 2026-03-02T10:00:00\.000Z, the next from 2026-03-02T10:15:00\.000Z$/);
});
