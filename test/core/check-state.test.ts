import { test } from 'node:test';
import assert from 'node:assert/strict';
import { observe, freshMemory, addToHours, uptimePercent, inMaintenance, maintenanceWindowSchema, type CheckMemory, type CheckRules } from '../../core/check-state.js';

const rules: CheckRules = { retries: 3, recoveries: 1, minStateMs: 0 };
const T0 = Date.parse('2026-12-06T10:00:00Z');

function feed(results: boolean[], r: CheckRules = rules, stepMs = 60_000, start: CheckMemory = freshMemory()) {
  let m = start;
  const changes: string[] = [];
  results.forEach((ok, i) => {
    const out = observe(m, { ok, reason: ok ? null : 'refused' }, T0 + i * stepMs, r);
    m = out.memory;
    if (out.change) changes.push(`${i}:${out.change.from}->${out.change.to}`);
  });
  return { m, changes };
}

test('a new check is up after its first success; down is announced only after 3 failures in a row, once', () => {
  const { changes, m } = feed([true, false, false, true, false, false, false, false, false]);
  assert.deepEqual(changes, ['0:unknown->up', '6:up->down'], 'two failures then a success is a blip, not a down');
  assert.equal(m.status, 'down');
  assert.equal(m.failures, 5);
  assert.equal(m.lastError, 'refused');
});

test('back up once after a down, with how long it lasted', () => {
  let m = feed([true, false, false, false]).m;
  const out = observe(m, { ok: true }, T0 + 10 * 60_000, rules);
  assert.equal(out.change?.to, 'up');
  assert.equal(out.change?.lastedMs, 7 * 60_000);
  m = out.memory;
  assert.equal(observe(m, { ok: true }, T0 + 11 * 60_000, rules).change, null);
});

test('a flapping service is reported at most once per minimum time in state; the change waits, it is not lost', () => {
  const flappy: CheckRules = { retries: 1, recoveries: 1, minStateMs: 5 * 60_000 };
  // up, down, up, down … every minute for 12 minutes
  const { changes, m } = feed([true, false, true, false, true, false, true, false, true, false, true, false], flappy);
  // down at 1 (first change from up); up no sooner than 5 min later at 6 is a failure... changes only when the
  // result agrees at a time the state may change.
  assert.ok(changes.length <= 4, `few changes: ${changes.join(' ')}`);
  for (let i = 1; i < changes.length; i++) {
    const a = Number(changes[i - 1]!.split(':')[0]);
    const b = Number(changes[i]!.split(':')[0]);
    assert.ok(b - a >= 5, `changes at least 5 minutes apart: ${changes.join(' ')}`);
  }
  assert.equal(m.status === 'up' || m.status === 'down', true);
  // steady down after a recent change: announced once the minimum time has passed
  const s = feed([true, false, false, false, false, false, false, false], flappy);
  assert.deepEqual(s.changes, ['0:unknown->up', '5:up->down']);
});

test('recoveries: a down check needs N successes in a row before it is up', () => {
  const r: CheckRules = { retries: 1, recoveries: 2, minStateMs: 0 };
  const { changes } = feed([false, true, false, true, true], r);
  assert.deepEqual(changes, ['0:unknown->down', '4:down->up']);
});

test('uptime over 24 h / 7 d / 30 d from hourly counts, capped at 30 days of hours', () => {
  let h: [number, number, number][] = [];
  const HOUR = 3_600_000;
  // 40 days, one check an hour; the last 24 hours half failed
  for (let i = 0; i < 40 * 24; i++) {
    const at = T0 - (40 * 24 - i) * HOUR;
    h = addToHours(h, i < 40 * 24 - 24 || i % 2 === 0, at);
  }
  assert.ok(h.length <= 30 * 24);
  const day = uptimePercent(h, 24, T0)!;
  assert.ok(day > 40 && day < 60, `about half: ${day}`);
  const week = uptimePercent(h, 24 * 7, T0)!;
  assert.ok(week > 90 && week < 100, String(week));
  assert.equal(uptimePercent([], 24, T0), null);
});

test('maintenance windows: one-off, recurring on chosen days, and across midnight (local time)', () => {
  const at = (y: number, mo: number, d: number, h: number, mi: number) => new Date(y, mo - 1, d, h, mi).getTime();
  // 2026-12-06 is a Sunday
  const sundayNight = [{ days: ['sun' as const], start: '02:00', end: '04:00' }];
  assert.equal(inMaintenance(sundayNight, at(2026, 12, 6, 3, 0)), true);
  assert.equal(inMaintenance(sundayNight, at(2026, 12, 6, 4, 0)), false, 'the end is not inside');
  assert.equal(inMaintenance(sundayNight, at(2026, 12, 7, 3, 0)), false, 'not on Monday');
  const overnight = [{ days: ['sat' as const], start: '23:00', end: '01:00' }];
  assert.equal(inMaintenance(overnight, at(2026, 12, 5, 23, 30)), true, 'Saturday evening');
  assert.equal(inMaintenance(overnight, at(2026, 12, 6, 0, 30)), true, 'and the small hours after it, on Sunday');
  assert.equal(inMaintenance(overnight, at(2026, 12, 6, 23, 30)), false, 'not Sunday evening');
  const once = [{ from: '2026-12-24T08:00:00Z', until: '2026-12-24T12:00:00Z' }];
  assert.equal(inMaintenance(once, Date.parse('2026-12-24T09:00:00Z')), true);
  assert.equal(inMaintenance(once, Date.parse('2026-12-24T12:00:00Z')), false);
  assert.equal(maintenanceWindowSchema.safeParse({ start: '25:00', end: '01:00' }).success, false);
  assert.equal(maintenanceWindowSchema.safeParse({ days: ['sun'] }).success, false, 'a window needs its times');
});
