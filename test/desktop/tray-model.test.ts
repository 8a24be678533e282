import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trayModel, trayIconState, menuLabel, dndDuration, untilTomorrowMs, type TrayState, type TrayMenuItem } from '../../electron/tray-model.js';

const base: TrayState = { engine: 'running', paused: false, dnd: { on: false, until: null }, unread: 0, failingMonitors: [], latest: [] };
const labels = (items: TrayMenuItem[]) => items.filter((i) => i.type !== 'separator').map((i) => i.label);

test('menu: five latest events (newest first), then pause, dnd, open, settings, quit', () => {
  const latest = Array.from({ length: 8 }, (_, i) => ({ id: `E${i}`, title: `Item ${i}`, source: 'rss:hn' }));
  const m = trayModel({ ...base, latest });
  assert.deepEqual(labels(m.menu), ['Item 0', 'Item 1', 'Item 2', 'Item 3', 'Item 4', 'Pause all monitors', 'Do not disturb', 'Open Panoptes', 'Settings', 'Quit']);
  assert.deepEqual(m.menu[0]!.action, { kind: 'open-event', eventId: 'E0' });
  const dnd = m.menu.find((i) => i.label === 'Do not disturb')!;
  assert.deepEqual(dnd.submenu!.map((i) => i.action), [
    { kind: 'dnd', for: 'hour' },
    { kind: 'dnd', for: 'tomorrow' },
    { kind: 'dnd', for: 'off' },
  ]);
  assert.deepEqual(m.menu.at(-1)!.action, { kind: 'quit' });
});

test('menu without events says so instead of showing an empty list', () => {
  const m = trayModel(base);
  assert.equal(m.menu[0]!.label, 'No events yet');
  assert.equal(m.menu[0]!.enabled, false);
});

test('pause item reflects the state and toggles it; disabled while the engine is down', () => {
  const running = trayModel({ ...base, paused: true }).menu.find((i) => i.label === 'Pause all monitors')!;
  assert.equal(running.checked, true);
  assert.deepEqual(running.action, { kind: 'pause', paused: false });
  const down = trayModel({ ...base, engine: 'restarting' }).menu.find((i) => i.label === 'Pause all monitors')!;
  assert.equal(down.enabled, false);
});

test('icon state: failing beats paused beats dnd beats unread', () => {
  assert.equal(trayIconState(base), 'normal');
  assert.equal(trayIconState({ ...base, unread: 2 }), 'unread');
  assert.equal(trayIconState({ ...base, unread: 2, dnd: { on: true, until: null } }), 'dnd');
  assert.equal(trayIconState({ ...base, unread: 2, dnd: { on: true, until: null }, paused: true }), 'paused');
  assert.equal(trayIconState({ ...base, paused: true, failingMonitors: ['Mail'] }), 'failing');
  assert.equal(trayIconState({ ...base, engine: 'restarting' }), 'failing');
});

test('tooltip carries the unread count, failing monitors and dnd expiry; badge caps at 99+', () => {
  const m = trayModel(
    { ...base, unread: 3, failingMonitors: ['Mail', 'HN'], dnd: { on: true, until: '2030-01-01T10:05:00Z' } },
    () => '10:05',
  );
  assert.match(m.tooltip, /3 unread/);
  assert.match(m.tooltip, /2 monitors failing: Mail, HN/);
  assert.match(m.tooltip, /do not disturb until 10:05/);
  assert.equal(m.badge, '3');
  assert.equal(trayModel({ ...base, unread: 250 }).badge, '99+');
  assert.equal(trayModel(base).badge, '');
  assert.match(trayModel({ ...base, engine: 'restarting' }).tooltip, /restarting/);
});

test('quiet hours from the notification center show as a line in the menu and the tooltip, with their end', () => {
  const m = trayModel({ ...base, quietHours: { active: true, until: '2030-01-02T06:00:00Z' } }, () => '07:00');
  assert.ok(labels(m.menu).includes('Quiet hours until 07:00'));
  assert.equal(m.menu.find((i) => i.label === 'Quiet hours until 07:00')!.enabled, false);
  assert.match(m.tooltip, /quiet hours until 07:00/);
  assert.ok(!labels(trayModel({ ...base, quietHours: { active: false, until: null } }).menu).some((l) => /Quiet/.test(l ?? '')));
});

test('event titles are untrusted: one line, bounded, & escaped', () => {
  assert.equal(menuLabel('Tom & Jerry\nsecond line'), 'Tom && Jerry second line');
  const long = menuLabel('x'.repeat(500));
  assert.ok(long.length <= 60);
  assert.ok(long.endsWith('…'));
  assert.equal(menuLabel('   '), '(untitled)');
});

test('dnd durations: 1 hour, until tomorrow 08:00 local, off clears', () => {
  const evening = new Date(2030, 0, 1, 22, 30, 0);
  assert.equal(dndDuration('hour', evening), '1h');
  assert.equal(dndDuration('off', evening), null);
  assert.equal(untilTomorrowMs(evening), 9.5 * 3_600_000);
  assert.equal(dndDuration('tomorrow', evening), `${9.5 * 3600}s`);
});
