import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdleMachine } from '../../monitors/idle/machine.js';

const T = 180_000; // the default threshold: 3 minutes
const make = (confirmActiveMs = 0) => new IdleMachine({ thresholdMs: T, confirmActiveMs, suspendGapMs: 30_000 });

/** Sample every 5 s from `from` to `to`, the last input being at `lastInput(now)`. */
function run(m: IdleMachine, from: number, to: number, lastInput: (now: number) => number) {
  const out = [];
  for (let now = from; now <= to; now += 5_000) out.push(...m.sample(now, now - lastInput(now)));
  return out;
}

test('no input for the threshold starts idle, back-dated to the last input', () => {
  const m = make();
  assert.deepEqual(run(m, 0, T - 5_000 + 10_000, () => 10_000), [], 'not before the threshold has passed');
  const out = run(m, T + 10_000, T + 60_000, () => 10_000);
  assert.deepEqual(out, [{ kind: 'start', at: 10_000, reason: 'input' }]);
  assert.equal(m.idle, true);
});

test('input ends idle at the input, carrying the idle duration; nothing is emitted twice', () => {
  const m = make();
  run(m, 0, 400_000, () => 0);
  const out = run(m, 405_000, 420_000, (now) => (now >= 410_000 ? 409_000 : 0));
  assert.deepEqual(out, [{ kind: 'end', at: 409_000, idleSince: 0, durationMs: 409_000 }]);
  assert.equal(m.idle, false);
});

test('a stray input (a bumped mouse) does not end idle when confirmation is on; continued input does', () => {
  const m = make(3_000);
  run(m, 0, 300_000, () => 0);
  // One input at 301 s, then nothing: still away, and the idle period is not split.
  assert.deepEqual(run(m, 305_000, 330_000, () => 301_000), []);
  assert.equal(m.idle, true);
  // Back for real at 400 s: input at 400 s and again at 402 s.
  const out = run(m, 400_000, 410_000, (now) => (now >= 405_000 ? 404_000 : 400_000));
  assert.deepEqual(out, [{ kind: 'end', at: 400_000, idleSince: 0, durationMs: 400_000 }]);
});

test('suspend counts as idle: a gap in the samples starts idle at the last known input', () => {
  const m = make();
  run(m, 0, 60_000, (now) => now - 1_000); // active, input every second
  // The machine slept from 60 s to 3600 s; the first sample after waking shows input from the wake-up keypress.
  const out = m.sample(3_600_000, 500);
  assert.deepEqual(out[0], { kind: 'start', at: 59_000, reason: 'suspend' });
  assert.deepEqual(out[1], { kind: 'end', at: 3_599_500, idleSince: 59_000, durationMs: 3_540_500 });
});

test('suspend with no input after waking stays idle until input comes', () => {
  const m = make();
  run(m, 0, 60_000, (now) => now - 1_000);
  assert.deepEqual(m.sample(3_600_000, 3_600_000 - 59_000), [{ kind: 'start', at: 59_000, reason: 'suspend' }]);
  assert.equal(m.idle, true);
  assert.deepEqual(m.sample(3_605_000, 3_605_000 - 59_000), []);
});

test('being idle across a long stretch emits exactly one start and one end', () => {
  const m = make();
  const out = run(m, 0, 3_100_000, (now) => (now < 3_000_000 ? 0 : now - 1_000));
  assert.deepEqual(out.map((o) => o.kind), ['start', 'end']);
});
