import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdleRelay, LastInputEstimate, type IdleWatchMessage } from '../../monitors/idle/relay.js';
import { IdleMachine } from '../../monitors/idle/machine.js';
import { IdleSampler } from '../../electron/idle-sampler.js';

/** powerMonitor.getSystemIdleTime(): whole seconds since the last input (floored, as X11, IOKit and Win32 give it). */
const osIdleSeconds = (now: number, lastInput: number) => Math.floor((now - lastInput) / 1000);

test('whole-second readings of one quiet stretch give one last-input instant, not a jittering one', () => {
  const est = new LastInputEstimate();
  const lastInput = 10_437;
  const seen = new Set<number>();
  for (let now = 12_000; now < 200_000; now += 1_730) seen.add(est.update(now, osIdleSeconds(now, lastInput)));
  // Narrowing may move the estimate earlier, never later, and it stays within the second after the true input.
  const values = [...seen];
  for (let i = 1; i < values.length; i++) assert.ok(values[i]! <= values[i - 1]!, 'never moves later without new input');
  assert.ok(values.at(-1)! >= lastInput && values.at(-1)! < lastInput + 1000, `estimate ${values.at(-1)} vs ${lastInput}`);
});

test('new input after a quiet stretch moves the estimate to it', () => {
  const est = new LastInputEstimate();
  for (let now = 5_000; now <= 60_000; now += 2_000) est.update(now, osIdleSeconds(now, 1_000));
  const after = est.update(64_000, osIdleSeconds(64_000, 62_500));
  assert.ok(after >= 62_500 && after < 63_500);
});

test('relayed samples drive the same idle machine: idle.start back-dated to the last input, idle.end with its duration', () => {
  const sent: IdleWatchMessage[] = [];
  let clock = 0;
  const relay = new IdleRelay((m) => sent.push(m), () => clock);
  const probe = relay.probeFactory({ pollMs: 5_000 });
  assert.deepEqual(sent, [{ type: 'idle-watch', intervalMs: 5_000 }], 'the shell is asked to sample at the monitor pace');
  const machine = new IdleMachine({ thresholdMs: 180_000, confirmActiveMs: 0, suspendGapMs: 30_000 });

  let lastInput = 3_300; // the user stops here…
  const back = 400_700; // …and comes back here
  const out = [];
  // The shell samples every 5 s; the monitor polls every 5 s too, 2.5 s out of phase.
  for (let t = 0; t <= 420_000; t += 2_500) {
    clock = t;
    if (t >= back) lastInput = Math.max(lastInput, back);
    if (t % 5_000 === 0) {
      // Real timers drift: the readings fall at any point of the second, which is what makes whole seconds jitter.
      const at = t + ((t / 5_000) * 373) % 1_000;
      relay.onMessage({ type: 'idle-sample', at, idleSeconds: osIdleSeconds(at, lastInput) });
    }
    else out.push(...machine.sample(t, probe()));
  }
  assert.equal(out.length, 2, JSON.stringify(out));
  const [start, end] = out;
  assert.ok(start!.kind === 'start' && start!.at >= 3_300 && start!.at < 4_300, `back-dated to the last input: ${JSON.stringify(start)}`);
  assert.ok(end!.kind === 'end' && end!.at >= back && end!.at < back + 1_000, JSON.stringify(end));
  assert.ok(end!.kind === 'end' && Math.abs(end!.durationMs - (back - 3_300)) < 1_000);
  probe.close();
  assert.deepEqual(sent.at(-1), { type: 'idle-watch', intervalMs: null }, 'sampling stops with the last monitor');
});

test('before the first sample the probe reports activity instead of inventing an idle period', () => {
  const relay = new IdleRelay(() => {}, () => 1e9);
  assert.equal(relay.probeFactory()(), 0);
});

test('with two idle monitors the shell samples at the faster pace; anything that is not a sample is left alone', () => {
  const sent: (number | null)[] = [];
  const relay = new IdleRelay((m) => sent.push(m.intervalMs));
  const slow = relay.probeFactory({ pollMs: 10_000 });
  const fast = relay.probeFactory({ pollMs: 2_000 });
  fast.close();
  slow.close();
  slow.close();
  assert.deepEqual(sent, [10_000, 2_000, 10_000, null]);
  assert.equal(relay.onMessage({ type: 'connect' }), false);
  assert.equal(relay.onMessage({ type: 'idle-sample', at: 1, idleSeconds: -3 }), false);
  assert.equal(relay.onMessage({ type: 'idle-sample', at: 1, idleSeconds: 'x' }), false);
});

test('the shell samples only while asked, at the asked pace (bounded), and skips readings it cannot take', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const posted: number[] = [];
  let reading: number | Error = 7;
  const sampler = new IdleSampler(
    () => {
      if (reading instanceof Error) throw reading;
      return reading;
    },
    (m) => posted.push(m.idleSeconds),
    () => 0,
  );
  assert.equal(sampler.onMessage({ type: 'secrets-request' }), false);
  assert.equal(sampler.onMessage({ type: 'idle-watch', intervalMs: 2_000 }), true);
  assert.deepEqual(posted, [7], 'a first reading right away');
  t.mock.timers.tick(6_000);
  assert.equal(posted.length, 4);
  reading = new Error('not supported');
  t.mock.timers.tick(2_000);
  assert.equal(posted.length, 4);
  reading = 9;
  sampler.onMessage({ type: 'idle-watch', intervalMs: null });
  t.mock.timers.tick(60_000);
  assert.equal(posted.length, 4, 'nothing is read while no idle monitor runs');
  sampler.onMessage({ type: 'idle-watch', intervalMs: 1 });
  assert.equal(sampler.intervalMs, 200, 'a page cannot make the shell spin');
  sampler.stop();
});
