/**
 * The active-window monitor against a real X server: Xvfb with openbox as window manager (it maintains
 * _NET_ACTIVE_WINDOW), two test windows (two xterms of different classes), focus switched with xdotool; get-windows reads it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import windowMonitor from '../../monitors/window/index.js';
import { runMonitor } from '../helpers/monitor-harness.js';
import { startXvfb, have, type XServer } from '../desktop/xvfb.js';
import type { NewEvent } from '../../core/event.js';

const missing = ['Xvfb', 'xdotool', 'openbox', 'xterm', 'xprop', 'xwininfo'].filter((c) => !have(c));
const skip = process.platform !== 'linux' ? 'skipped: X11 test (Linux only)' : missing.length ? `skipped: ${missing.join(', ')} not installed (apt: xvfb xdotool openbox x11-apps x11-utils xterm)` : false;

async function windowFor(x: XServer, name: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    try {
      const ids = x.exec('xdotool', ['search', '--name', name]).trim().split('\n').filter(Boolean);
      if (ids.length) return ids[0]!;
    } catch {
      // not mapped yet
    }
    await sleep(100);
  }
  throw new Error(`window "${name}" did not appear`);
}

async function focus(x: XServer, id: string): Promise<void> {
  x.exec('xdotool', ['windowactivate', '--sync', id]);
}

/**
 * Focus a window and wait until it stays in front: a window still being mapped (the second xterm) may take the
 * focus from it right after, as window managers give new windows focus.
 */
async function focusSettled(x: XServer, id: string): Promise<void> {
  let stable = 0;
  for (let i = 0; i < 50 && stable < 3; i++) {
    let active = '';
    try {
      active = x.exec('xdotool', ['getactivewindow']).trim();
    } catch {
      // no active window yet
    }
    if (active === id) stable++;
    else {
      stable = 0;
      await focus(x, id);
    }
    await sleep(150);
  }
  if (stable < 3) throw new Error(`window ${id} did not stay in front`);
}

async function setup(t: { after(fn: () => unknown): void }) {
  const x = await startXvfb({ windowManager: true });
  const previousDisplay = process.env.DISPLAY;
  process.env.DISPLAY = x.display; // get-windows runs xprop with this process's environment
  t.after(async () => {
    if (previousDisplay === undefined) delete process.env.DISPLAY;
    else process.env.DISPLAY = previousDisplay;
    await x.stop();
  });
  // Two xterms with different classes: two "apps" (xterm sets _NET_WM_PID, which get-windows needs).
  x.run('xterm', ['-class', 'Notes', '-title', 'Quarterly report.odt', '-e', 'sleep 300']);
  x.run('xterm', ['-title', 'build log', '-e', 'sleep 300']);
  const msg = await windowFor(x, 'Quarterly report.odt');
  const term = await windowFor(x, 'build log');
  return { x, msg, term };
}

const focusEvents = (events: NewEvent[]) => events.filter((e) => e.type === 'window.focus');

test('window.focus is emitted when another window comes to the front, once per change, with app, title and pid', { skip, timeout: 60_000 }, async (t) => {
  const { x, msg, term } = await setup(t);
  await focusSettled(x, msg);
  const run = await runMonitor(windowMonitor, { pollSeconds: 0.2 });
  t.after(() => run.stop());
  const [first] = await run.waitForEvents(1, 10_000);
  assert.equal(first!.fields?.title, 'Quarterly report.odt');
  assert.equal(String(first!.fields?.app).toLowerCase(), 'notes');
  assert.ok(Number(first!.fields?.pid) > 0);

  await sleep(1_000); // several polls with nothing changing
  assert.equal(focusEvents(run.events).length, 1, 'no event on every poll');

  await focus(x, term);
  const events = await run.waitForEvents(2, 10_000);
  assert.equal(events[1]!.fields?.title, 'build log');
  assert.equal(String(events[1]!.fields?.app).toLowerCase(), 'xterm');
  await focus(x, msg);
  const back = await run.waitForEvents(3, 10_000);
  assert.equal(back[2]!.fields?.title, 'Quarterly report.odt');
});

test('privacy: excluded apps are never reported, titles can be dropped', { skip, timeout: 60_000 }, async (t) => {
  const { x, msg, term } = await setup(t);
  await focusSettled(x, msg);
  const run = await runMonitor(windowMonitor, { pollSeconds: 0.2, excludeApps: ['XTerm'], dropTitles: true });
  t.after(() => run.stop());
  const [first] = await run.waitForEvents(1, 10_000);
  assert.equal(first!.fields?.title, null);
  assert.equal(first!.title, first!.fields?.app, 'the event title does not leak the window title either');
  assert.ok(!JSON.stringify(first).includes('Quarterly'));

  await focus(x, term);
  await sleep(1_500);
  assert.equal(focusEvents(run.events).length, 1, 'xterm (excluded) produced nothing');
  await focus(x, msg);
  const events = await run.waitForEvents(2, 10_000);
  assert.equal(String(events[1]!.fields?.app).toLowerCase(), 'notes', 'coming back from an excluded app is a change');
});

test('paused: nothing is recorded', { skip, timeout: 60_000 }, async (t) => {
  const { x, msg, term } = await setup(t);
  const run = await runMonitor(windowMonitor, { pollSeconds: 0.2, paused: true });
  t.after(() => run.stop());
  await focus(x, msg);
  await focus(x, term);
  await sleep(1_000);
  assert.deepEqual(run.events, []);
});
