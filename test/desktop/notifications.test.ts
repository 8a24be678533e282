import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotificationGate, nativeNotificationSpec, categoryOfType, type GateInput } from '../../electron/notifications.js';
import type { NotificationPayload } from '../../core/protocol.js';

let n = 0;
function note(over: Partial<NotificationPayload> = {}, extra: Partial<GateInput> = {}): GateInput {
  n++;
  return {
    payload: { id: `N${n}`, eventId: `E${n}`, ruleId: 'r1', title: `Item ${n}`, body: 'b', url: null, priority: 'normal', sound: true, at: '2030-01-01T00:00:00Z', ...over },
    category: 'feeds',
    ruleName: 'Hacker News',
    ...extra,
  };
}
const none = new Set<string>();
const dnd = new Set(['dnd']);
const settings = { holdDuringFlags: ['dnd'], allowHighPriorityThrough: true, coalescePerMinute: 3 };

test('notifications pass through one by one while nothing holds them and the rule is under the limit', () => {
  const g = new NotificationGate(settings);
  const out = [note(), note(), note()].flatMap((x, i) => g.offer(x, 1000 * i, none));
  assert.deepEqual(out.map((d) => d.kind), ['single', 'single', 'single']);
});

test('more than N from one rule within a minute become one coalesced notification at the end of that minute', () => {
  const g = new NotificationGate(settings);
  const delivered = [0, 1, 2, 3, 4, 5, 6].flatMap((i) => g.offer(note(), 1000 * i, none));
  assert.equal(delivered.length, 3, 'the first three go out');
  assert.equal(g.nextDeadline(), 60_000, 'one timer: the minute that began with the first delivery');
  assert.deepEqual(g.tick(59_999), []);
  const [c] = g.tick(60_000);
  assert.ok(c && c.kind === 'coalesced');
  assert.equal(c.count, 4);
  assert.equal(c.title, '4 new items from Hacker News');
  assert.equal(g.nextDeadline(), null);
  // A new minute starts fresh.
  assert.equal(g.offer(note(), 61_000, none)[0]!.kind, 'single');
});

test('another rule is not coalesced with the busy one', () => {
  const g = new NotificationGate(settings);
  for (let i = 0; i < 5; i++) g.offer(note(), i, none);
  assert.equal(g.offer(note({ ruleId: 'r2' }), 10, none)[0]!.kind, 'single');
});

test('while dnd is set notifications are held and come out as one summary when it clears', () => {
  const g = new NotificationGate(settings);
  for (let i = 0; i < 9; i++) assert.deepEqual(g.offer(note(), i, dnd), []);
  for (let i = 0; i < 3; i++) g.offer(note({ ruleId: 'mail' }, { category: 'mail' }), 20 + i, dnd);
  assert.equal(g.heldCount(), 12);
  assert.deepEqual(g.flagsChanged(new Set(['dnd', 'away'])), [], 'still held while dnd stays');
  const [s] = g.flagsChanged(new Set(['away']));
  assert.ok(s && s.kind === 'summary');
  assert.equal(s.title, '12 held: 9 feeds, 3 mail');
  assert.equal(s.payloads.length, 12);
  assert.equal(g.heldCount(), 0);
  assert.deepEqual(g.flagsChanged(none), [], 'nothing is delivered twice');
});

test('high priority goes through dnd when the setting allows it, and is held when it does not', () => {
  const allow = new NotificationGate(settings);
  assert.equal(allow.offer(note({ priority: 'high' }), 0, dnd)[0]!.kind, 'single');
  const strict = new NotificationGate({ ...settings, allowHighPriorityThrough: false });
  assert.deepEqual(strict.offer(note({ priority: 'high' }), 0, dnd), []);
  assert.equal(strict.heldCount(), 1);
});

test('a single held notification is delivered as itself, not as a summary of one', () => {
  const g = new NotificationGate(settings);
  const x = note();
  g.offer(x, 0, dnd);
  assert.deepEqual(g.flagsChanged(none), [{ kind: 'single', payload: x.payload }]);
});

test('any flag named in the settings holds, not only dnd', () => {
  const g = new NotificationGate({ ...settings, holdDuringFlags: ['focus'] });
  assert.deepEqual(g.offer(note(), 0, new Set(['focus'])), []);
  assert.equal(g.offer(note(), 0, dnd)[0]!.kind, 'single');
});

test('native notification: low priority is silent, click opens the event or its URL as asked', () => {
  const low = nativeNotificationSpec({ kind: 'single', payload: note({ priority: 'low', url: 'https://example.com/a' }).payload });
  assert.equal(low.silent, true);
  assert.equal(low.urgency, 'low');
  assert.equal(low.onClick.kind, 'event');
  const url = nativeNotificationSpec({ kind: 'single', payload: note({ url: 'https://example.com/a' }).payload }, { clickOpensUrl: true });
  assert.deepEqual(url.onClick, { kind: 'url', url: 'https://example.com/a' });
  assert.equal(url.silent, false);
  const js = nativeNotificationSpec({ kind: 'single', payload: note({ url: 'javascript:alert(1)' }).payload }, { clickOpensUrl: true });
  assert.equal(js.onClick.kind, 'event', 'only http(s) URLs are opened');
  const quiet = nativeNotificationSpec({ kind: 'single', payload: note().payload }, { soundEnabled: false });
  assert.equal(quiet.silent, true, 'the desktop preference turns sound off');
  assert.equal(nativeNotificationSpec({ kind: 'single', payload: note({ sound: false }).payload }).silent, true, 'the rule said sound: false');
  assert.ok(nativeNotificationSpec({ kind: 'single', payload: note({ title: 'x'.repeat(1000) }).payload }).title.length <= 120);
});

test('summary categories come from the event type namespace', () => {
  assert.equal(categoryOfType('feed.item'), 'feeds');
  assert.equal(categoryOfType('mail.received'), 'mail');
  assert.equal(categoryOfType('custom.thing'), 'custom');
  assert.equal(categoryOfType(undefined), 'notifications');
});
