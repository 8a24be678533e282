import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../core/store/index.js';
import { silentLogger } from '../../core/log.js';
import { notificationSettingsSchema } from '../../core/config/schema.js';
import { NotificationCenter, type Candidate } from '../../engine/notifications/center.js';
import { noExternalChannels, type OutboundChannels, type QueuedNotification } from '../../engine/notifications/outbound-channels.js';
import type { FlagState, NotificationPayload, NotificationSettings } from '../../core/protocol.js';
import type { OutgoingNotification } from '../../core/notification-channel.js';
import { ChannelError } from '../../core/notification-channel.js';
import { ManualClock } from '../helpers/manual-clock.js';

const T0 = Date.parse('2030-01-07T12:00:00Z'); // a Monday

/** A center on a real SQLite store, a manual clock, and flags/settings the test sets. */
function setup(t: { after(fn: () => void | Promise<void>): void }, over: (s: NotificationSettings) => void = () => {}, channels?: OutboundChannels) {
  const store = openStore(':memory:');
  const clock = new ManualClock(T0);
  const settings = notificationSettingsSchema.parse({});
  over(settings);
  let flags: FlagState[] = [];
  const pushed: NotificationPayload[] = [];
  const events = new Map<string, { type: string; source: string; ts?: number; backfill?: boolean }>();
  const names: Record<string, string> = { feeds: 'New feed items', mail: 'Mail from people', alert: 'Server alerts', r1: 'Rule one', r2: 'Rule two', r3: 'Rule three' };
  const center = new NotificationCenter({
    store,
    clock,
    log: silentLogger,
    settings: () => settings,
    flags: () => flags,
    ruleName: (id) => names[id] ?? id,
    eventInfo: (id) => events.get(id) ?? null,
    channels: channels ?? noExternalChannels,
    push: (n) => pushed.push(n),
    pushStatus: () => {},
  });
  center.start();
  t.after(async () => {
    await center.close();
    store.close();
  });
  let n = 0;
  const offer = (over: Partial<Candidate> & { type?: string; source?: string; ts?: number; backfill?: boolean } = {}) => {
    n++;
    const eventId = over.eventId === undefined ? `E${n}` : over.eventId;
    if (eventId) events.set(eventId, { type: over.type ?? 'feed.item', source: over.source ?? 'rss:a', ts: over.ts ?? clock.now(), ...(over.backfill ? { backfill: true } : {}) });
    const ruleId = over.ruleId ?? 'feeds';
    const { type: _t, source: _s, ts: _ts, backfill: _b, ...candidate } = over;
    return center.offer({ key: `${ruleId}/${eventId ?? 'at:' + n}`, ruleId, eventId, title: `Item ${n}`, body: '', url: null, priority: 'normal', sound: true, ...candidate });
  };
  const setFlag = (name: string | null) => {
    flags = name ? [{ name, value: true, setAt: new Date(clock.now()).toISOString(), expiresAt: null, setBy: 'user' }] : [];
    center.changed();
  };
  return { store, clock, settings, center, pushed, offer, setFlag };
}

test('one event matched by three notifying rules gives one notification: highest priority, all rules listed', (t) => {
  const { center, pushed, offer } = setup(t);
  offer({ eventId: 'E-x', ruleId: 'r1', title: 'from rule one' });
  offer({ eventId: 'E-x', ruleId: 'r2', title: 'from rule two', priority: 'high' });
  offer({ eventId: 'E-x', ruleId: 'r3', title: 'from rule three', priority: 'low' });
  const { items } = center.list({});
  assert.equal(items.length, 1);
  assert.deepEqual(items[0]!.ruleNames, ['Rule one', 'Rule two', 'Rule three']);
  assert.equal(items[0]!.priority, 'high');
  assert.equal(items[0]!.title, 'from rule two', 'the highest-priority rule speaks');
  assert.equal(pushed.filter((p) => !p.update).length, 1, 'one notification goes out, not three');
  assert.equal(pushed.at(-1)!.title, 'from rule two', 'and is updated in place when a higher-priority rule joins');
  const why = center.why('E-x');
  assert.deepEqual(why.fates.map((f) => f.fate), ['shown', 'merged', 'merged']);
  assert.match(why.fates[1]!.text, /"Rule two" also matched; it joined the notification of "Rule one"/);
});

test('at equal priority a person\'s own rule speaks instead of a built-in rule', (t) => {
  const { center, pushed, offer } = setup(t);
  offer({ eventId: 'E-z', ruleId: 'default-notify-feed-items', title: 'Release 2.1' });
  offer({ eventId: 'E-z', ruleId: 'releases', title: '2 releases, latest: RELEASE 2.1' });
  assert.equal(center.list({}).items.length, 1);
  assert.deepEqual(pushed.map((p) => [p.title, p.update ?? false]), [['Release 2.1', false], ['2 releases, latest: RELEASE 2.1', true]], 'pages replace the toast in place');
  assert.equal(center.list({}).items[0]!.title, '2 releases, latest: RELEASE 2.1');
});

test('a rule that asks for its own notification gets it', (t) => {
  const { center, offer } = setup(t);
  offer({ eventId: 'E-y', ruleId: 'r1' });
  offer({ eventId: 'E-y', ruleId: 'r2', own: true });
  assert.equal(center.list({}).items.length, 2);
});

test('the same candidate offered again (an action replayed after a crash) is not decided twice', (t) => {
  const { center, pushed } = setup(t);
  const c: Candidate = { key: 'r1/E1', ruleId: 'r1', eventId: 'E1', title: 'x', body: '', url: null, priority: 'normal', sound: true };
  assert.ok(center.offer(c));
  assert.equal(center.offer(c), null);
  assert.equal(pushed.length, 1);
});

test('while dnd is set notifications are held durably, and clearing it gives ONE summary by category, exactly once', (t) => {
  const { center, pushed, offer, setFlag } = setup(t);
  setFlag('dnd');
  for (let i = 0; i < 9; i++) offer({ type: 'feed.item' });
  for (let i = 0; i < 3; i++) offer({ ruleId: 'mail', type: 'mail.received', source: 'mail:me' });
  for (let i = 0; i < 2; i++) offer({ ruleId: 'alert', eventId: null });
  assert.equal(pushed.length, 0, 'nothing goes out while held');
  assert.equal(center.status().held, 14);
  assert.match(center.status().holding[0]!, /dnd/);
  assert.match(center.why('E1').summary, /held because the "dnd" flag was set/);
  setFlag(null);
  assert.equal(pushed.length, 1);
  assert.equal(pushed[0]!.kind, 'summary');
  assert.equal(pushed[0]!.title, '14 held: 9 feeds, 3 mail, 2 alerts');
  assert.equal(center.list({ parentId: pushed[0]!.id, limit: 100 }).items.length, 14, 'the summary opens into the list');
  center.reconsider();
  setFlag(null);
  assert.equal(pushed.length, 1, 'released once');
  assert.match(center.why('E1').summary, /released in the summary "14 held/);
});

test('high and urgent pass a hold when the setting allows it, and are held when it does not', (t) => {
  const a = setup(t);
  a.setFlag('dnd');
  a.offer({ priority: 'urgent' });
  assert.equal(a.pushed.length, 1);
  assert.match(a.center.why('E1').summary, /urgent priority goes through while the "dnd" flag was set/);
  const b = setup(t, (s) => void (s.allowHighPriorityThrough = false));
  b.setFlag('dnd');
  b.offer({ priority: 'high' });
  assert.equal(b.pushed.length, 0);
  assert.equal(b.center.status().held, 1);
});

test('a single held notification comes out as itself; held items past their expiry are only counted in the summary', (t) => {
  const { center, pushed, offer, setFlag, clock, settings } = setup(t);
  setFlag('focus');
  settings.holdDuringFlags = ['focus'];
  offer({ title: 'alone' });
  setFlag(null);
  assert.equal(pushed.at(-1)!.kind, 'single');
  assert.equal(pushed.at(-1)!.title, 'alone');
  setFlag('focus');
  offer({ title: 'stale' });
  clock.advance(13 * 3_600_000);
  offer({ title: 'fresh' });
  setFlag(null);
  const s = pushed.at(-1)!;
  assert.equal(s.kind, 'summary');
  assert.equal(s.body, 'fresh\n1 older than 12 h');
  const inside = center.list({ parentId: s.id }).items;
  assert.deepEqual(inside.map((i) => i.state).sort(), ['expired', 'summarised']);
});

test('500 notifications in 10 s from 20 sources give a handful of notifications with all 500 reachable inside', (t) => {
  const { center, pushed, offer, clock } = setup(t);
  for (let i = 0; i < 500; i++) {
    clock.set(T0 + i * 20);
    offer({ source: `rss:feed-${i % 20}`, ruleId: i % 2 ? 'feeds' : 'r1' });
  }
  clock.set(T0 + 61_000);
  center.reconsider();
  assert.ok(pushed.length <= 8, `${pushed.length} notifications`);
  const fold = pushed.find((p) => p.kind === 'fold')!;
  assert.ok(fold, 'the storm became one notification');
  assert.match(fold.title, /^\d+ new items from 20 feeds$/);
  const singles = pushed.filter((p) => p.kind === 'single').length;
  const inside = center.list({ parentId: fold.id, limit: 500 }).items.length;
  assert.equal(singles + inside, 500, 'every item is reachable');
  assert.equal(fold.count, inside);
});

test('a backfill (56 old items at a first check or a catch-up) is folded into one notification from the first item, never shown one by one', (t) => {
  const { center, pushed, offer, clock, settings } = setup(t);
  const weekAgo = T0 - 7 * 24 * 3_600_000;
  for (let i = 0; i < 56; i++) offer({ source: 'rss:news', ts: weekAgo + i * 3_600_000 });
  assert.equal(pushed.length, 0, 'nothing shown item by item');
  clock.advance(settings.storm.windowSeconds * 1000 + 1);
  center.reconsider();
  assert.equal(pushed.length, 1);
  assert.equal(pushed[0]!.kind, 'fold');
  assert.equal(pushed[0]!.count, 56);
  assert.equal(center.list({ parentId: pushed[0]!.id, limit: 100 }).items.length, 56, 'every item is inside');
  assert.match(center.why('E1').fates[0]!.text, /old item.*backfill/);
});

test('one old item alone is folded briefly, then shown as itself', (t) => {
  const { center, pushed, offer, clock, settings } = setup(t);
  offer({ source: 'rss:news', ts: T0 - 5 * 3_600_000, title: 'Late article' });
  clock.advance(settings.storm.windowSeconds * 1000 + 1);
  center.reconsider();
  assert.equal(pushed.length, 1);
  assert.equal(pushed[0]!.title, 'Late article');
  assert.equal(pushed[0]!.count, 1);
});

test('the backfill age is a setting: an item half an hour old is a backfill at 15 minutes, not at the default hour', (t) => {
  const shortAge = setup(t, (s) => {
    s.backfillAfterMinutes = 15;
  });
  shortAge.offer({ ts: T0 - 30 * 60_000, title: 'Half an hour old' });
  assert.equal(shortAge.pushed.length, 0, 'folded, not shown one by one');
  assert.match(shortAge.center.why('E1').fates[0]!.text, /30 min old.*backfill/);
  const byDefault = setup(t);
  assert.equal(byDefault.settings.backfillAfterMinutes, 60, 'one hour by default');
  byDefault.offer({ ts: T0 - 30 * 60_000, title: 'Half an hour old' });
  assert.deepEqual(byDefault.pushed.map((p) => p.title), ['Half an hour old']);
});

test('an event its monitor marked as a backfill is folded from the first item, whatever its date', (t) => {
  const { center, pushed, offer, clock, settings } = setup(t);
  for (let i = 0; i < 8; i++) offer({ source: 'rss:news', backfill: true, title: `Undated ${i}` });
  assert.equal(pushed.length, 0, 'nothing shown item by item');
  assert.match(center.why('E1').fates[0]!.text, /marked.*backfill/);
  clock.advance(settings.storm.windowSeconds * 1000 + 1);
  center.reconsider();
  assert.deepEqual(pushed.map((p) => [p.kind, p.count]), [['fold', 8]]);
});

test('quiet hours hold across midnight and release at their end as one summary', (t) => {
  const { center, pushed, offer, clock } = setup(t, (s) => {
    s.quietHours = { enabled: true, timeZone: 'Europe/Berlin', windows: [{ days: [1], start: '22:00', end: '07:00' }] };
  });
  clock.set(Date.parse('2030-01-07T21:30:00Z')); // Monday 22:30 in Berlin (UTC+1)
  offer();
  clock.set(Date.parse('2030-01-08T03:00:00Z')); // Tuesday 04:00 in Berlin: still Monday's window
  offer();
  assert.equal(pushed.length, 0);
  assert.match(center.why('E1').summary, /quiet hours 22:00–07:00 \(Europe\/Berlin\)/);
  assert.equal(center.status().quietHours.until, '2030-01-08T06:00:00.000Z');
  clock.set(Date.parse('2030-01-08T06:00:00Z'));
  center.reconsider();
  assert.equal(pushed.length, 1);
  assert.equal(pushed[0]!.title, '2 held: 2 feeds');
});

test('a notification no page saw is shown once by a page that connects later; a page with a cursor gets what came after it', (t) => {
  const { center, offer, clock } = setup(t);
  offer({ title: 'while nobody looked' });
  const first = center.catchUp('ui', null);
  assert.deepEqual(first.items.map((i) => i.title), ['while nobody looked']);
  assert.equal(center.catchUp('ui', null).items.length, 0, 'a second new page does not show it again');
  offer({ title: 'later' });
  const again = center.catchUp('ui', first.cursor);
  assert.deepEqual(again.items.map((i) => i.title), ['later']);
  for (let i = 0; i < 30; i++) {
    clock.advance(61_000); // no storm: one a minute
    offer({ ruleId: `rule-${i}` });
  }
  const bounded = center.catchUp('ui', again.cursor, 5);
  assert.equal(bounded.items.length, 5);
  assert.ok(bounded.more > 0, 'the rest is a count');
});

test('a channel send given up for good (a dead letter) falls back to the fallback channel once, and the fates say so', (t) => {
  const queued: { channel: string; m: QueuedNotification }[] = [];
  let wakes = 0;
  const channels: OutboundChannels = {
    list: () => [{ id: 'phone', type: 'ntfy', name: 'Phone (ntfy)' }, { id: 'mail', type: 'email', name: 'Mail to me' }],
    enqueue: (channel, m) => (queued.push({ channel, m }), true),
    wake: () => void wakes++,
    queued: () => 'pending',
  };
  const { center, offer } = setup(t, (s) => {
    s.routing.byPriority.urgent = ['phone', 'desktop'];
    s.routing.fallback = 'mail';
  }, channels);
  const n = offer({ priority: 'urgent', eventId: 'E-u' })!;
  assert.deepEqual(queued.map((q) => q.channel), ['phone'], 'queued in the lanes with the decision');
  assert.equal(wakes, 1);
  // The lane reports: a retry, then given up.
  center.channelOutcome(n.id, 'phone', { kind: 'retry', attempts: 1, error: 'ntfy answered 500', at: Date.now() + 5_000 });
  assert.deepEqual(queued.map((q) => q.channel), ['phone'], 'no fallback while the lane still retries');
  center.channelOutcome(n.id, 'phone', { kind: 'failed', attempts: 6, error: 'ntfy answered 500' });
  assert.deepEqual(queued.map((q) => q.channel), ['phone', 'mail']);
  assert.equal(queued[1]!.m.id, n.id);
  center.channelOutcome(n.id, 'mail', { kind: 'done', attempts: 1 });
  // A second report of the same dead letter (after a crash) does not fall back again.
  center.channelOutcome(n.id, 'phone', { kind: 'failed', attempts: 6, error: 'ntfy answered 500' });
  assert.equal(queued.length, 2);
  const why = center.why('E-u');
  assert.ok(why.fates.some((f) => f.fate === 'retrying' && /Phone \(ntfy\) did not take it \(attempt 1: ntfy answered 500\)/.test(f.text)));
  assert.ok(why.fates.some((f) => f.fate === 'failed' && /failed at Phone \(ntfy\) after 6 attempts: ntfy answered 500; kept as a dead letter/.test(f.text)));
  assert.ok(why.fates.some((f) => f.fate === 'delivered' && /delivered to Mail to me \(fallback for Phone \(ntfy\)\)/.test(f.text)));
});

test('nothing held is lost while a channel is broken: the summary the hold ends with fails at the phone, falls back, and keeps every item', (t) => {
  const queued: { channel: string; m: QueuedNotification }[] = [];
  const channels: OutboundChannels = {
    list: () => [{ id: 'phone', type: 'ntfy', name: 'Phone (ntfy)' }, { id: 'mail', type: 'email', name: 'Mail to me' }],
    enqueue: (channel, m) => (queued.push({ channel, m }), true),
    wake: () => {},
    queued: () => 'pending',
  };
  const { center, offer, setFlag } = setup(t, (s) => {
    s.routing.byPriority.normal = ['phone', 'ui'];
    s.routing.fallback = 'mail';
  }, channels);
  setFlag('dnd');
  for (let i = 0; i < 4; i++) offer({ eventId: `E-h${i}` });
  assert.equal(queued.length, 0, 'nothing sent while held');
  setFlag(null);
  const summary = center.list({}).items.find((n) => n.kind === 'summary')!;
  assert.deepEqual(queued.map((q) => [q.channel, q.m.id]), [['phone', summary.id]]);
  center.channelOutcome(summary.id, 'phone', { kind: 'failed', attempts: 6, error: 'ntfy answered 500' });
  assert.deepEqual(queued.map((q) => q.channel), ['phone', 'mail'], 'the fallback gets the summary');
  assert.equal(center.list({ parentId: summary.id }).items.length, 4, 'every held item is inside the summary');
  for (let i = 0; i < 4; i++) assert.ok(center.why(`E-h${i}`).fates.some((f) => f.fate === 'summarised'));
  assert.ok(center.why('E-h0').fates.some((f) => f.fate === 'failed' && /failed at Phone \(ntfy\)/.test(f.text)), '"why" of a held item tells its summary\'s sends');
});

test('snooze brings a notification back; read clears the unread count', (t) => {
  const { center, pushed, offer, clock } = setup(t);
  const n = offer()!;
  assert.equal(center.status().unread, 1);
  center.snooze(n.id, 600_000);
  assert.equal(center.status().unread, 0);
  clock.advance(600_000);
  center.reconsider();
  assert.equal(pushed.length, 2, 'shown again');
  assert.equal(center.status().unread, 1);
  center.read('all');
  assert.equal(center.status().unread, 0);
});
