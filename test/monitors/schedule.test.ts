import { test } from 'node:test';
import assert from 'node:assert/strict';
import schedule from '../../monitors/schedule/index.js';
import { cronSchedule, intervalSchedule, planTick } from '../../monitors/schedule/plan.js';
import { dryRunMonitor } from '../../core/monitor-host.js';
import { memoryState } from '../../core/store/monitor-state-store.js';
import { startWithHost, waitFor } from './web-test-context.js';

const at = (iso: string) => Date.parse(iso);
const MIN = 60_000;
const HOUR = 60 * MIN;

test('cron times come from croner, in the chosen time zone, across a daylight-saving change', () => {
  const nine = cronSchedule('0 9 * * *', 'Europe/Berlin');
  assert.equal(new Date(nine.next(at('2024-03-30T12:00:00Z'))!).toISOString(), '2024-03-31T07:00:00.000Z', 'CEST begins: 9:00 is 07:00 UTC');
  assert.equal(new Date(nine.next(at('2024-03-29T12:00:00Z'))!).toISOString(), '2024-03-30T08:00:00.000Z', 'CET: 9:00 is 08:00 UTC');
  const weekdays = cronSchedule('30 7 * * MON-FRI', 'UTC');
  assert.equal(new Date(weekdays.next(at('2024-06-07T08:00:00Z'))!).toISOString(), '2024-06-10T07:30:00.000Z', 'Friday after 7:30 → Monday');
});

test('an on-time tick is ordinary; a sleep through many ticks gives one catch-up tick', () => {
  const hourly = cronSchedule('0 * * * *', 'UTC');
  const last = at('2024-06-01T10:00:00Z');
  assert.equal(planTick(hourly, last, at('2024-06-01T10:59:59Z'), 90_000), null, 'nothing due yet');
  assert.deepEqual(planTick(hourly, last, at('2024-06-01T11:00:00.200Z'), 90_000), { scheduledFor: at('2024-06-01T11:00:00Z'), missed: 0, catchUp: false });
  // Laptop lid closed at 10:30, opened at 17:20: seven hourly times passed.
  assert.deepEqual(planTick(hourly, last, at('2024-06-01T17:20:00Z'), 90_000), { scheduledFor: at('2024-06-01T17:00:00Z'), missed: 7, catchUp: true });
  // A single time missed by a long sleep is a catch-up too.
  assert.deepEqual(planTick(hourly, last, at('2024-06-01T11:30:00Z'), 90_000), { scheduledFor: at('2024-06-01T11:00:00Z'), missed: 1, catchUp: true });

  const every15 = intervalSchedule(15 * MIN, at('2024-06-01T10:07:00Z'), '15m');
  assert.equal(every15.next(at('2024-06-01T10:07:00Z')), at('2024-06-01T10:22:00Z'));
  assert.deepEqual(planTick(every15, at('2024-06-01T10:22:00Z'), at('2024-06-01T12:00:00Z'), 90_000), { scheduledFor: at('2024-06-01T11:52:00Z'), missed: 6, catchUp: true });
});

test('under the real host: interval ticks arrive with their name and the next time', async (t) => {
  const run = await startWithHost(schedule, { name: 'Heartbeat', every: '1s' });
  t.after(() => run.stop());
  await waitFor(() => run.events.length >= 2, 'two ticks');
  const [a, b] = run.events;
  assert.equal(a!.type, 'schedule.tick');
  assert.equal(a!.fields!.name, 'Heartbeat');
  assert.equal(a!.fields!.catchUp, false);
  assert.equal(Date.parse(b!.fields!.scheduledFor as string) - Date.parse(a!.fields!.scheduledFor as string), 1000);
  assert.equal(a!.fields!.nextAt, b!.fields!.scheduledFor);
});

test('after Panoptes was not running for three hours: exactly one catch-up tick on start, then ordinary ones', async (t) => {
  const state = memoryState();
  const now = Date.now();
  state.set('anchor', now - 3 * HOUR - 30 * MIN);
  state.set('lastHandled', now - 3 * HOUR - 30 * MIN);
  const run = await startWithHost(schedule, { name: 'Hourly', every: '1h' }, { state });
  t.after(() => run.stop());
  await waitFor(() => run.events.length >= 1, 'catch-up tick');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(run.events.length, 1, 'one tick, not a burst');
  const f = run.events[0]!.fields!;
  assert.equal(f.catchUp, true);
  assert.equal(f.missed, 3);
  assert.equal(f.scheduledFor, new Date(now - 30 * MIN).toISOString());
  assert.match(run.events[0]!.title!, /catch-up for 3 missed/);
  await run.stop();

  // With catch-up off, the missed ticks are skipped silently.
  const quiet = memoryState();
  quiet.set('anchor', now - 5 * HOUR - 1000);
  quiet.set('lastHandled', now - 5 * HOUR - 1000);
  const off = await startWithHost(schedule, { name: 'Hourly', every: '1h', catchUp: false }, { state: quiet });
  t.after(() => off.stop());
  await waitFor(() => quiet.get<number>('lastHandled')! > now - HOUR, 'missed ticks marked handled');
  assert.equal(off.events.length, 0);
});

test('monitor test shows the next tick; bad config says which field', async () => {
  const [e] = await dryRunMonitor(schedule, { name: 'Briefing', cron: '0 9 * * *' });
  assert.equal(e!.type, 'schedule.tick');
  assert.ok(Date.parse(e!.fields.scheduledFor as string) > Date.now());
  assert.equal(new Date(e!.fields.scheduledFor as string).getHours(), 9, 'local time');
  await assert.rejects(dryRunMonitor(schedule, { name: 'x', cron: '61 * * * *' }), /cron: not a valid cron expression/);
  await assert.rejects(dryRunMonitor(schedule, { name: 'x', cron: '* * * * *', every: '1m' }), /cron: give either/);
  await assert.rejects(dryRunMonitor(schedule, { name: 'x', every: '1m', timezone: 'Mars/Olympus' }), /timezone: not a known time zone/);
  await assert.rejects(dryRunMonitor(schedule, { every: '1m' }), /name/);
});
