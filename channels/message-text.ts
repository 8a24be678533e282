// How a notification reads on services that take one text: the title, the body, the link, each on its own line,
// cut to the service's limit (a cut says so with an ellipsis rather than failing the send).
import type { NotificationPriority, OutgoingNotification } from '../core/notification-channel.js';

export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  return text.slice(0, Math.max(0, max - 1)).trimEnd() + '…';
}

export function plainText(m: OutgoingNotification, max = 4000): string {
  const parts = [m.title, m.body && m.body !== m.title ? m.body : '', m.url ?? ''].filter(Boolean);
  return clip(parts.join('\n'), max);
}

/** Escape for HTML-formatted messages (Telegram's HTML mode, Matrix's formatted_body). */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function htmlText(m: OutgoingNotification, max = 4000): string {
  const title = `<b>${escapeHtml(clip(m.title, 250))}</b>`;
  const body = m.body && m.body !== m.title ? '\n' + escapeHtml(clip(m.body, Math.max(0, max - 600))) : '';
  const link = m.url ? `\n<a href="${escapeHtml(m.url)}">${escapeHtml(clip(m.url, 200))}</a>` : '';
  return title + body + link;
}

/** A priority as a 0-based rank, for services with numeric scales. */
export const PRIORITY_RANK: Record<NotificationPriority, number> = { low: 0, normal: 1, high: 2, urgent: 3 };

/** The test notification the Settings page's "Send test notification" button sends through a channel. */
export function testNotification(channelId: string, at = new Date()): OutgoingNotification {
  return {
    id: `test-${at.getTime()}`,
    idempotencyKey: `test:${channelId}:${at.getTime()}`,
    title: 'Panoptes test notification',
    body: 'If you can read this, this channel works.',
    url: null,
    priority: 'normal',
    kind: 'single',
    count: 1,
    at: at.toISOString(),
  };
}
