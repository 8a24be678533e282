import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isQuiet, nextChange } from '../../engine/notifications/quiet-hours.js';

const nightly = (timeZone: string) => ({ enabled: true, timeZone, windows: [{ days: [0, 1, 2, 3, 4, 5, 6], start: '22:00', end: '07:00' }] });

test('a window across midnight holds in the evening and the next morning, on the wall clock', () => {
  const q = nightly('America/New_York');
  assert.equal(isQuiet(q, Date.parse('2030-01-08T02:59:00Z')), false, '21:59 EST');
  assert.equal(isQuiet(q, Date.parse('2030-01-08T03:00:00Z')), true, '22:00 EST');
  assert.equal(isQuiet(q, Date.parse('2030-01-08T11:59:00Z')), true, '06:59 EST');
  assert.equal(isQuiet(q, Date.parse('2030-01-08T12:00:00Z')), false, '07:00 EST');
});

test('weekday windows: Friday night runs into Saturday morning; Saturday night is free', () => {
  const q = { enabled: true, timeZone: 'UTC', windows: [{ days: [5], start: '23:00', end: '08:00' }] };
  assert.equal(isQuiet(q, Date.parse('2030-01-11T23:30:00Z')), true, 'Friday 23:30');
  assert.equal(isQuiet(q, Date.parse('2030-01-12T07:30:00Z')), true, 'Saturday 07:30');
  assert.equal(isQuiet(q, Date.parse('2030-01-12T23:30:00Z')), false, 'Saturday 23:30');
});

test('across a DST change the window stays 22:00–07:00 local, and its end is found to the minute', () => {
  const q = nightly('Europe/Berlin');
  // Night of 30/31 March 2030: clocks go 02:00 → 03:00 (CET → CEST).
  assert.equal(isQuiet(q, Date.parse('2030-03-30T21:00:00Z')), true, '22:00 CET');
  assert.equal(nextChange(q, Date.parse('2030-03-30T21:00:00Z')), Date.parse('2030-03-31T05:00:00Z'), 'ends 07:00 CEST, an hour "early" in UTC');
  assert.equal(isQuiet(q, Date.parse('2030-03-31T04:59:00Z')), true, '06:59 CEST');
  // Night of 26/27 October 2030: 03:00 → 02:00 (CEST → CET).
  assert.equal(nextChange(q, Date.parse('2030-10-26T20:00:00Z')), Date.parse('2030-10-27T06:00:00Z'), 'ends 07:00 CET');
  assert.equal(nextChange(q, Date.parse('2030-10-27T07:00:00Z')), Date.parse('2030-10-27T21:00:00Z'), 'next starts 22:00 CET');
});

test('disabled or empty quiet hours never hold and have no next change', () => {
  assert.equal(isQuiet({ enabled: false, timeZone: 'UTC', windows: nightly('UTC').windows }, 0), false);
  assert.equal(nextChange({ enabled: true, timeZone: 'UTC', windows: [] }, 0), null);
});
