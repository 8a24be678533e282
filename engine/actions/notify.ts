import type { NotificationPayload } from '../../core/protocol.js';
import type { Store } from '../../core/store/index.js';
import type { ActionExecutor } from '../outbox-dispatcher.js';

/**
 * `notify`: the notification is recorded (so every UI, and a UI opened later, can show it) and pushed to every
 * connected client: browser pages show a toast and a Notification; the desktop shell shows a native one.
 * Not retry-safe: after a crash mid-delivery it is not repeated.
 */
export function notifyExecutor(store: Store, deliver: (n: NotificationPayload) => void): ActionExecutor {
  return {
    retrySafe: false,
    concurrency: 16,
    timeoutMs: 10_000,
    destination: () => 'notify',
    async run(action, ctx) {
      const a = (action as { notify: Partial<NotificationPayload> & { sound?: boolean } }).notify ?? {};
      const payload: NotificationPayload = {
        id: `${ctx.ruleId}/${ctx.eventId}`,
        eventId: ctx.eventId,
        ruleId: ctx.ruleId,
        title: String(a.title ?? '').slice(0, 500) || 'Panoptes',
        body: String(a.body ?? '').slice(0, 4_000),
        url: safeUrl(a.url),
        priority: a.priority === 'low' || a.priority === 'high' ? a.priority : 'normal',
        sound: a.sound ?? a.priority !== 'low',
        at: new Date().toISOString(),
      };
      if (store.notifications.add(payload)) deliver(payload);
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
