import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SHELL_SIGNALS, shellSignalEvent, isAmbientType } from '../../electron/shell-signals.js';

test('every powerMonitor signal the shell listens to becomes the event type the issue names', () => {
  const at = new Date('2030-01-02T03:04:05.000Z');
  const types = Object.fromEntries(SHELL_SIGNALS.map((s) => [s, shellSignalEvent(s, at).type]));
  assert.deepEqual(types, {
    'lock-screen': 'session.lock',
    'unlock-screen': 'session.unlock',
    suspend: 'system.suspend',
    resume: 'system.resume',
    'on-ac': 'power.ac',
    'on-battery': 'power.battery',
  });
  const e = shellSignalEvent('suspend', at);
  assert.equal(e.ts, at.toISOString());
  assert.equal(e.fields?.signal, 'suspend');
});

test('presence and shell events stay out of the tray list and unread count; news does not', () => {
  for (const t of ['session.lock', 'system.resume', 'power.battery', 'idle.start', 'window.focus', 'flag.set']) assert.equal(isAmbientType(t), true, t);
  for (const t of ['feed.item', 'mail.received', 'sessions.report', 'powerline.item']) assert.equal(isAmbientType(t), false, t);
});
