/**
 * The desktop channel, as pure logic. The engine's notification center decides what the person sees (one per
 * event, holds, quiet hours, summaries, storms folded); the shell only shows what the center routed to the desktop
 * and reports clicks and dismissals back. main.ts feeds these functions pushes and catch-up answers.
 */
import type { NotificationPayload, NotificationStatus } from '../core/protocol.js';

/** What a native notification shows; `silent` for low priority. */
export interface NativeNotificationSpec {
  /** The center's notification id, reported back when clicked or dismissed. */
  id: string;
  title: string;
  body: string;
  silent: boolean;
  urgency: 'low' | 'normal' | 'critical';
  /** What a click opens: an event in the window, a URL in the browser, the notification inbox, or just the window. */
  onClick:
    | { kind: 'event'; eventId: string }
    | { kind: 'url'; url: string }
    | { kind: 'inbox'; notificationId: string | null }
    /** An address inside the window the engine chose for it (`#/history?versions=…`: a page change's diff). */
    | { kind: 'view'; link: string }
    | { kind: 'window' };
}

const TITLE_MAX = 120;
const BODY_MAX = 400;

/** The center routed it to the desktop and it went out (a held or folding one is not shown). */
export function showsOnDesktop(n: NotificationPayload): boolean {
  // An update (another rule joined one already shown) changes the inbox and the pages' toast, not a second native one.
  return n.state === 'shown' && n.channels.includes('desktop') && !n.update;
}

export function nativeNotificationSpec(n: NotificationPayload, opts: { clickOpensUrl?: boolean; soundEnabled?: boolean } = {}): NativeNotificationSpec {
  const soundEnabled = opts.soundEnabled ?? true;
  const url = n.url && /^https?:\/\//i.test(n.url) ? n.url : null;
  const single = n.kind === 'single';
  let onClick: NativeNotificationSpec['onClick'];
  if (!single) onClick = { kind: 'inbox', notificationId: n.id };
  else if (opts.clickOpensUrl && url) onClick = { kind: 'url', url };
  else if (n.open && /^#\/[a-z]+/.test(n.open)) onClick = { kind: 'view', link: n.open };
  else if (n.eventId) onClick = { kind: 'event', eventId: n.eventId };
  else onClick = { kind: 'inbox', notificationId: n.id };
  return {
    id: n.id,
    title: clip(n.title || 'Panoptes', TITLE_MAX),
    body: clip(n.body, BODY_MAX),
    silent: !soundEnabled || n.priority === 'low' || !n.sound,
    urgency: n.priority === 'high' || n.priority === 'urgent' ? 'critical' : n.priority === 'low' ? 'low' : 'normal',
    onClick,
  };
}

/**
 * What the shell shows after (re)connecting, from `notifications.catchUp`: the missed ones one by one when there
 * are few, else ONE native notification that says how many and opens the inbox (a restart must not fire a volley).
 */
export function catchUpSpecs(
  result: { items: NotificationPayload[]; more: number },
  opts: { clickOpensUrl?: boolean; soundEnabled?: boolean; maxSingles?: number } = {},
): NativeNotificationSpec[] {
  const desk = result.items.filter(showsOnDesktop);
  const max = opts.maxSingles ?? 3;
  if (desk.length + result.more <= max) return desk.slice().reverse().map((n) => nativeNotificationSpec(n, opts));
  const total = desk.length + result.more;
  return [
    {
      id: desk[0]?.id ?? 'catch-up',
      title: `${total} notifications while Panoptes was away`,
      body: clip(desk.slice(0, 3).map((n) => n.title).join('\n'), BODY_MAX),
      silent: true,
      urgency: desk.some((n) => n.priority === 'high' || n.priority === 'urgent') ? 'critical' : 'normal',
      onClick: { kind: 'inbox', notificationId: null },
    },
  ];
}

/**
 * The shell's catch-up cursor: the newest notification seq it has shown, kept in its preferences so a restart of
 * the app (or of the engine) asks only for what came after.
 */
export function advanceCursor(cursor: number | null, seen: { seq: number } | { cursor: number }): number {
  const next = 'seq' in seen ? seen.seq : seen.cursor;
  return Math.max(cursor ?? 0, next);
}

/** The tray's unread count and dnd state come from the center's status push. */
export function trayNotificationState(s: NotificationStatus): { unread: number; dnd: { on: boolean; until: string | null }; quiet: boolean; quietHours: { active: boolean; until: string | null } } {
  return { unread: s.unread, dnd: s.dnd, quiet: s.quietHours.active, quietHours: { active: s.quietHours.active, until: s.quietHours.until } };
}

function clip(s: string, max: number): string {
  const t = String(s ?? '');
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}
