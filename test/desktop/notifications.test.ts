import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeNotificationSpec, showsOnDesktop, catchUpSpecs, advanceCursor, trayNotificationState } from '../../electron/notifications.js';
import type { NotificationPayload } from '../../core/protocol.js';

// The shell decides nothing: these are the display rules for what the engine's center routed to the desktop.
let n = 0;
function note(over: Partial<NotificationPayload> = {}): NotificationPayload {
  n++;
  return {
    id: `N${n}`, seq: n, kind: 'single', state: 'shown', eventId: `E${n}`, ruleId: 'r1', ruleIds: ['r1'], ruleNames: ['Hacker News'],
    title: `Item ${n}`, body: 'b', url: null, priority: 'normal', sound: true, category: 'feeds', count: 1, parentId: null,
    channels: ['desktop', 'ui'], at: '2030-01-01T00:00:00Z', readAt: null, snoozedUntil: null, ackedAt: null, ...over,
  };
}

test('the shell shows only what the center sent out to the desktop channel', () => {
  assert.equal(showsOnDesktop(note()), true);
  assert.equal(showsOnDesktop(note({ channels: ['ui'] })), false, 'routed to pages only (a low-priority route)');
  assert.equal(showsOnDesktop(note({ state: 'held' })), false, 'held by dnd or quiet hours');
  assert.equal(showsOnDesktop(note({ state: 'folding' })), false, 'a storm fold still collecting');
  assert.equal(showsOnDesktop(note({ update: true })), false, 'another rule joined one already shown: no second native notification');
});

test('native notification: low priority is silent, click opens the event or its URL as asked; summaries open the inbox', () => {
  const low = nativeNotificationSpec(note({ priority: 'low', url: 'https://example.com/a' }));
  assert.equal(low.silent, true);
  assert.equal(low.urgency, 'low');
  assert.equal(low.onClick.kind, 'event');
  const url = nativeNotificationSpec(note({ url: 'https://example.com/a' }), { clickOpensUrl: true });
  assert.deepEqual(url.onClick, { kind: 'url', url: 'https://example.com/a' });
  assert.equal(url.silent, false);
  const js = nativeNotificationSpec(note({ url: 'javascript:alert(1)' }), { clickOpensUrl: true });
  assert.equal(js.onClick.kind, 'event', 'only http(s) URLs are opened');
  assert.equal(nativeNotificationSpec(note(), { soundEnabled: false }).silent, true, 'the desktop preference turns sound off');
  assert.equal(nativeNotificationSpec(note({ sound: false })).silent, true, 'the rule said sound: false');
  assert.ok(nativeNotificationSpec(note({ title: 'x'.repeat(1000) })).title.length <= 120);
  assert.equal(nativeNotificationSpec(note({ priority: 'urgent' })).urgency, 'critical');
  // What the engine chose for it (a page change: its diff) is opened in the window; the user's "open the URL" wins.
  const diff = note({ open: '#/history?versions=web%3Aa&from=1&to=2', url: 'https://example.com/a' });
  assert.deepEqual(nativeNotificationSpec(diff).onClick, { kind: 'view', link: '#/history?versions=web%3Aa&from=1&to=2' });
  assert.equal(nativeNotificationSpec(diff, { clickOpensUrl: true }).onClick.kind, 'url');
  assert.equal(nativeNotificationSpec(note({ open: 'https://evil.example/' })).onClick.kind, 'event', 'only addresses inside the UI');
  const summary = note({ kind: 'summary', eventId: null, title: '14 held: 9 feeds, 3 mail, 2 alerts', count: 14 });
  assert.deepEqual(nativeNotificationSpec(summary).onClick, { kind: 'inbox', notificationId: summary.id });
  assert.equal(nativeNotificationSpec(summary).id, summary.id, 'the click is reported back by the center id');
});

test('after a restart a few missed notifications are shown one by one, many as one that opens the inbox', () => {
  const few = catchUpSpecs({ items: [note({ title: 'newer' }), note({ title: 'older' })], more: 0 });
  assert.deepEqual(few.map((s) => s.title), ['older', 'newer'], 'oldest first, as they happened');
  const many = catchUpSpecs({ items: [note({ title: 'a' }), note({ title: 'b' }), note({ title: 'c' })], more: 40 });
  assert.equal(many.length, 1);
  assert.equal(many[0]!.title, '43 notifications while Panoptes was away');
  assert.deepEqual(many[0]!.onClick, { kind: 'inbox', notificationId: null });
  assert.equal(catchUpSpecs({ items: [note({ channels: ['ui'] })], more: 0 }).length, 0, 'not routed to the desktop');
});

test('the cursor only moves forward; the tray takes unread and dnd from the center', () => {
  assert.equal(advanceCursor(null, { seq: 5 }), 5);
  assert.equal(advanceCursor(9, { seq: 5 }), 9);
  assert.equal(advanceCursor(9, { cursor: 12 }), 12);
  const t = trayNotificationState({ unread: 3, held: 2, holding: ['the "dnd" flag was set'], quietHours: { active: true, until: null, next: null }, dnd: { on: true, until: null } });
  assert.deepEqual(t, { unread: 3, dnd: { on: true, until: null }, quiet: true, quietHours: { active: true, until: null } });
});
