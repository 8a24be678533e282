import type { NotificationPriority } from '../../core/protocol.js';
import type { ActionExecutor } from '../outbox-dispatcher.js';
import type { NotificationCenter } from '../notifications/center.js';

const PRIORITIES = new Set<NotificationPriority>(['low', 'normal', 'high', 'urgent']);

/**
 * `notify`: the rule's notification becomes a candidate for the notification center, which decides (one per
 * event, holds, storms, routing), records the decision and delivers. Safe to repeat after a crash: the center
 * recognises a candidate it already decided by its (rule, event) key.
 */
export function notifyExecutor(center: () => NotificationCenter): ActionExecutor {
  return {
    retrySafe: true,
    concurrency: 16,
    timeoutMs: 10_000,
    destination: () => 'notify',
    async run(action, ctx) {
      const a = (action as { notify: { title?: unknown; body?: unknown; url?: unknown; priority?: unknown; sound?: unknown; own?: unknown } }).notify ?? {};
      const priority = PRIORITIES.has(a.priority as NotificationPriority) ? (a.priority as NotificationPriority) : 'normal';
      center().offer({
        key: `${ctx.ruleId}/${ctx.eventId}`,
        ruleId: ctx.ruleId,
        eventId: ctx.eventId.startsWith('at:') ? null : ctx.eventId,
        title: String(a.title ?? '').slice(0, 500) || 'Panoptes',
        body: String(a.body ?? '').slice(0, 4_000),
        url: safeUrl(a.url),
        priority,
        sound: typeof a.sound === 'boolean' ? a.sound : priority !== 'low',
        own: a.own === true,
      });
    },
  };
}

/** Only web links leave a notification; anything else (javascript:, file:) is dropped. */
export function safeUrl(url: unknown): string | null {
  if (typeof url !== 'string' || !url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}
