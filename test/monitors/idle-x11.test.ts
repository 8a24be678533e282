/**
 * The idle monitor against a real X server: Debian's Xvfb, input generated with xdotool (XTEST), idle time read
 * through the X screensaver extension by desktop-idle, the monitor run by the real MonitorHost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import idle from '../../monitors/idle/index.js';
import { runMonitor } from '../helpers/monitor-harness.js';
import { startXvfb, have } from '../desktop/xvfb.js';

const missing = ['Xvfb', 'xdotool'].filter((c) => !have(c));
const skip = process.platform !== 'linux' ? 'skipped: X11 test (Linux only)' : missing.length ? `skipped: ${missing.join(', ')} not installed (apt: xvfb xdotool)` : false;

test('no input for the threshold → idle.start back-dated to the last input; input → idle.end with the idle duration', { skip, timeout: 60_000 }, async (t) => {
  const x = await startXvfb();
  const previousDisplay = process.env.DISPLAY;
  process.env.DISPLAY = x.display; // desktop-idle opens the display named by DISPLAY on every read
  t.after(async () => {
    if (previousDisplay === undefined) delete process.env.DISPLAY;
    else process.env.DISPLAY = previousDisplay;
    await x.stop();
  });

  const run = await runMonitor(idle, { thresholdSeconds: 2, pollSeconds: 0.2, confirmActiveSeconds: 0 });
  t.after(() => run.stop());

  // The input happens somewhere while xdotool runs, which on a loaded machine can take a while: bracket it.
  const inputFrom = Date.now();
  x.exec('xdotool', ['mousemove', '200', '200']);
  const inputTo = Date.now();
  const [start] = await run.waitForEvents(1, 10_000);
  const startedSeenAt = Date.now();
  assert.equal(start!.type, 'idle.start');
  const startTs = Date.parse(String(start!.ts));
  // Back-dated: the event's time is the last input, not the moment idleness was noticed two seconds later.
  assert.ok(startTs > inputFrom - 400 && startTs < inputTo + 400, `idle.start at ${startTs}, input between ${inputFrom} and ${inputTo}`);
  assert.ok(startedSeenAt - inputFrom >= 2_000, 'not before the threshold passed');
  assert.equal(start!.fields?.reason, 'input');

  await sleep(1_000);
  const backFrom = Date.now();
  x.exec('xdotool', ['mousemove', '300', '300']);
  const backAt = Date.now();
  const events = await run.waitForEvents(2, 10_000);
  const end = events[1]!;
  assert.equal(end.type, 'idle.end');
  const endTs = Date.parse(String(end.ts));
  assert.ok(endTs > backFrom - 400 && endTs < backAt + 400, 'idle.end at the first input');
  const idleMs = end.fields?.idleMs as number;
  assert.ok(Math.abs(idleMs - (endTs - startTs)) < 600, `idle ${idleMs} ms, expected about ${endTs - startTs} ms (from idle.start to idle.end)`);
  assert.equal(end.fields?.idleSince, new Date(startTs).toISOString());
  assert.equal(run.health().status, 'ok');
});

test('continuous input keeps the user active: no idle events', { skip, timeout: 30_000 }, async (t) => {
  const x = await startXvfb();
  const previousDisplay = process.env.DISPLAY;
  process.env.DISPLAY = x.display;
  t.after(async () => {
    if (previousDisplay === undefined) delete process.env.DISPLAY;
    else process.env.DISPLAY = previousDisplay;
    await x.stop();
  });
  const run = await runMonitor(idle, { thresholdSeconds: 2, pollSeconds: 0.2, confirmActiveSeconds: 0 });
  t.after(() => run.stop());
  for (let i = 0; i < 8; i++) {
    x.exec('xdotool', ['mousemove', String(100 + i * 10), '100']);
    await sleep(500);
  }
  assert.deepEqual(run.events, []);
});

test('without an X display the monitor reports a clear failure instead of pretending the user is active', { skip: process.platform !== 'linux' && 'Linux only', timeout: 30_000 }, async (t) => {
  const previousDisplay = process.env.DISPLAY;
  delete process.env.DISPLAY;
  t.after(() => {
    if (previousDisplay !== undefined) process.env.DISPLAY = previousDisplay;
  });
  const run = await runMonitor(idle, { thresholdSeconds: 2, pollSeconds: 0.2 });
  t.after(() => run.stop());
  const h = await run.waitForHealth((h) => h.status === 'failing', 10_000, 'failing');
  assert.match(String(h.lastError ?? h.message), /no X display/);
});
