// The notification center's records (notices, their fates, deliveries, the candidates already decided) are kept as
// long as the events they are about, and go with them: old ones are pruned by the retention sweep, recent ones stay,
// and what stays never points to a row that went (a notice's "why" is whole, a summary keeps its items).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../core/store/index.js';
import { silentLogger } from '../../core/log.js';
import { defaultConfig, notificationSettingsSchema } from '../../core/config/schema.js';
import { NotificationCenter } from '../../engine/notifications/center.js';
import { noExternalChannels } from '../../engine/notifications/outbound-channels.js';
import { RetentionSweeper } from '../../engine/retention.js';
import type { FlagState } from '../../core/protocol.js';
import { ManualClock } from '../helpers/manual-clock.js';

const DAY = 86_400_000;
const T0 = Date.parse('2030-01-07T12:00:00Z');

test('retention prunes old notices with their fates and deliveries, keeps recent ones whole', (t) => {
  const store = openStore(':memory:');
  t.after(() => store.close());
  const clock = new ManualClock(T0);
  const settings = notificationSettingsSchema.parse({ storm: { perRule: 1000, overall: 1000, windowSeconds: 60 } });
  let flags: FlagState[] = [];
  const center = new NotificationCenter({
    store,
    clock,
    log: silentLogger,
    settings: () => settings,
    flags: () => flags,
    ruleName: (id) => id,
    eventInfo: () => ({ type: 'feed.item', source: 'rss:a' }),
    channels: noExternalChannels,
    push: () => {},
    pushStatus: () => {},
  });
  t.after(() => center.close());
  const offer = (eventId: string, ruleId = 'r1') => center.offer({ key: `${ruleId}/${eventId}`, ruleId, eventId, title: eventId, body: '', url: null, priority: 'normal', sound: false });
  const dnd = (on: boolean) => {
    flags = on ? [{ name: 'dnd', value: true, setAt: new Date(clock.now()).toISOString(), expiresAt: null, setBy: 'user' }] : [];
    center.changed();
  };

  // Day 0: one shown notification (two rules merged), and two held items released as one summary.
  offer('old-1');
  offer('old-1', 'r2');
  dnd(true);
  offer('old-2');
  offer('old-3');
  clock.advance(60_000);
  dnd(false);
  // Held from day 0 until day 35: the summary is recent, so its (old) items stay with it.
  dnd(true);
  offer('mid-1');
  offer('mid-2');
  clock.advance(35 * DAY);
  dnd(false);
  dnd(true);
  offer('held-1');
  center.offer({ key: 'r1/new-1', ruleId: 'r1', eventId: 'new-1', title: 'new-1', body: '', url: null, priority: 'high', sound: false });
  clock.advance(5 * DAY);
  const now = clock.now();

  const cfg = defaultConfig();
  cfg.settings.retentionDays = 30;
  const sweeper = new RetentionSweeper(store, () => cfg, silentLogger);
  const count = (sql: string) => store.db.prepare(sql).pluck().get() as number;
  const before = count(`SELECT COUNT(*) FROM notification_fates`);
  while (sweeper.sweepSome(now) > 0);

  assert.deepEqual(center.why('old-1').fates, [], 'the old notification\'s fates went with it');
  assert.equal(store.notifications.mergeTarget('old-1'), undefined, 'the old notification went');
  assert.equal(count(`SELECT COUNT(*) FROM notices WHERE title IN ('old-2', 'old-3')`), 0);
  assert.equal(count(`SELECT COUNT(*) FROM notification_candidates WHERE key LIKE '%/old-%'`), 0);
  assert.ok(count(`SELECT COUNT(*) FROM notification_fates`) < before);

  // What stays is whole.
  // (Held for 35 days, longer than the held expiry: counted in the summary as expired.)
  assert.ok(center.why('mid-1').fates.some((f) => f.fate === 'expired'), 'a recent summary\'s items keep their fates');
  assert.ok(center.why('new-1').fates.some((f) => f.fate === 'shown'));
  assert.ok(center.why('held-1').fates.some((f) => f.fate === 'held'));
  assert.equal(store.notifications.list({ parentId: store.notifications.inState('shown').find((n) => n.kind === 'summary')!.id, limit: 10 }).length, 2, 'the recent summary keeps both items');
  assert.equal(count(`SELECT COUNT(*) FROM notification_fates WHERE notice_id IS NOT NULL AND notice_id NOT IN (SELECT id FROM notices)`), 0, 'no fate points to a pruned notice');
  assert.equal(count(`SELECT COUNT(*) FROM notices WHERE parent_id IS NOT NULL AND parent_id NOT IN (SELECT id FROM notices)`), 0, 'no item points to a pruned summary or fold');
  assert.equal(count(`SELECT COUNT(*) FROM notification_deliveries WHERE notice_id NOT IN (SELECT id FROM notices)`), 0);
  assert.equal(count(`SELECT COUNT(*) FROM notification_candidates WHERE notice_id NOT IN (SELECT id FROM notices)`), 0, 'no decided candidate points to a pruned notice');
});

test('a source kept longer than the global retention keeps its notifications as long as its events', (t) => {
  const store = openStore(':memory:');
  t.after(() => store.close());
  const clock = new ManualClock(T0);
  const center = new NotificationCenter({
    store,
    clock,
    log: silentLogger,
    settings: () => notificationSettingsSchema.parse({}),
    flags: () => [],
    ruleName: (id) => id,
    eventInfo: () => ({ type: 'feed.item', source: 'rss:long' }),
    channels: noExternalChannels,
    push: () => {},
    pushStatus: () => {},
  });
  t.after(() => center.close());
  center.offer({ key: 'r/e1', ruleId: 'r', eventId: 'e1', title: 'kept', body: '', url: null, priority: 'normal', sound: false });
  clock.advance(60 * DAY);
  const cfg = defaultConfig();
  cfg.settings.retentionDays = 30;
  cfg.monitors.push({ id: 'rss:long', type: 'rss', name: 'Long', enabled: true, config: {}, retentionDays: 365 } as never);
  const sweeper = new RetentionSweeper(store, () => cfg, silentLogger);
  while (sweeper.sweepSome(clock.now()) > 0);
  assert.ok(center.why('e1').fates.length > 0, 'its "why" still answers while its event may still be kept');
});

test('a held item is never pruned, however old: nobody has seen it yet', (t) => {
  const store = openStore(':memory:');
  t.after(() => store.close());
  const clock = new ManualClock(T0);
  const center = new NotificationCenter({
    store,
    clock,
    log: silentLogger,
    settings: () => notificationSettingsSchema.parse({}),
    flags: () => [{ name: 'dnd', value: true, setAt: new Date(T0).toISOString(), expiresAt: null, setBy: 'user' }],
    ruleName: (id) => id,
    eventInfo: () => ({ type: 'feed.item', source: 'rss:a' }),
    channels: noExternalChannels,
    push: () => {},
    pushStatus: () => {},
  });
  t.after(() => center.close());
  center.offer({ key: 'r/e1', ruleId: 'r', eventId: 'e1', title: 'held for long', body: '', url: null, priority: 'normal', sound: false });
  clock.advance(90 * DAY);
  const cfg = defaultConfig();
  cfg.settings.retentionDays = 30;
  const sweeper = new RetentionSweeper(store, () => cfg, silentLogger);
  while (sweeper.sweepSome(clock.now()) > 0);
  assert.equal(store.notifications.countInState('held'), 1);
  assert.ok(center.why('e1').fates.some((f) => f.fate === 'held'));
});
