import type { OutgoingNotification } from '../../core/notification-channel.js';
import type { Store } from '../../core/store/index.js';
import type { ActionExecutor } from '../outbox-dispatcher.js';
import type { ChannelSender } from '../channel-sender.js';

/** The outbox row of one notification for one channel: `{ channel: { id, notification } }`. */
export interface ChannelAction {
  channel: { id: string; notification: Omit<OutgoingNotification, 'idempotencyKey'> };
}

/** Each channel is its own lane: a dead Telegram never delays ntfy. */
export const channelLane = (channelId: string) => `channel:${channelId}`;

/**
 * `channel` actions: a notification sent through a configured channel, in that channel's lane, retried with
 * backoff (and not before a 429's Retry-After), given up at once on a permanent refusal (a 401, a bad chat) so a
 * fallback can take over. The idempotency key is the lane's (stable per outbox row), so Matrix's transaction id,
 * a webhook's Idempotency-Key and a mail's Message-ID stay the same on every attempt.
 */
export function channelExecutor(sender: ChannelSender): ActionExecutor {
  return {
    retrySafe: true,
    maxAttempts: 6,
    concurrency: 2,
    timeoutMs: 2 * 60_000,
    destination: (action) => channelLane(String((action as unknown as ChannelAction).channel?.id)),
    async run(action, ctx) {
      const { id, notification } = (action as unknown as ChannelAction).channel;
      await sender.send(id, { ...notification, idempotencyKey: ctx.idempotencyKey });
    },
  };
}

const NOTICE_PREFIX = 'notification:';

/** The outbox key of notification `noticeId`'s send to `channelId`: one row per (notification, channel), ever. */
export function channelSendKey(noticeId: string, channelId: string): { ruleId: string; eventId: string; actionIndex: number } {
  return { ruleId: NOTICE_PREFIX + noticeId, eventId: channelId, actionIndex: 0 };
}

/** The (notification, channel) an outbox row sends, or null for any other row. */
export function channelSendOf(item: { ruleId: string; eventId: string; action: Record<string, unknown> }): { noticeId: string; channelId: string } | null {
  if (!item.ruleId.startsWith(NOTICE_PREFIX) || !('channel' in item.action)) return null;
  return { noticeId: item.ruleId.slice(NOTICE_PREFIX.length), channelId: item.eventId };
}

/**
 * Queue `notification` for channel `channelId` (durably, exactly once per (notification, channel)), in the caller's
 * transaction: the notification center does this for every channel a notification is routed to, then wakes the
 * dispatcher, which reports each attempt's outcome back to the center.
 */
export function enqueueChannelSend(store: Store, channelId: string, notification: Omit<OutgoingNotification, 'idempotencyKey'>): boolean {
  const action: ChannelAction = { channel: { id: channelId, notification } };
  const k = channelSendKey(notification.id, channelId);
  return store.outbox.add(k.ruleId, k.eventId, k.actionIndex, action as unknown as Record<string, unknown>, 'pending', channelLane(channelId));
}
