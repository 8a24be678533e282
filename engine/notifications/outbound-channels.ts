import type { OutgoingNotification } from '../../core/notification-channel.js';

/** A notification as queued for one channel; the lane adds its idempotency key on every attempt. */
export type QueuedNotification = Omit<OutgoingNotification, 'idempotencyKey'>;

/** What a channel's lane did with one send (engine/outbox-dispatcher.ts reports it after recording it). */
export type ChannelOutcome =
  | { kind: 'done'; attempts: number }
  /** Refused or unreachable; the lane tries again at `at` (not before a 429's Retry-After). */
  | { kind: 'retry'; attempts: number; error: string; at: number }
  /** Given up (a permanent refusal, or the last attempt): the send is a dead letter with Retry and Discard. */
  | { kind: 'failed'; attempts: number; error: string };

/** How far an earlier queued send got, as the outbox recorded it (reconciling after a crash). */
export type QueuedState = 'pending' | 'done' | 'failed' | null;

/**
 * The center's narrow view of the external channels (channels/<type>/: ntfy, Gotify, Telegram…): which exist, and
 * queue one notification for one of them. The engine implements it with the action lanes (engine/actions/channel.ts:
 * one durable outbox row per (notification, channel), retries with backoff, the idempotency key, dead letters), so
 * a send to a channel has one code path whoever starts it; the lane reports back through
 * `NotificationCenter.channelOutcome`. The center never knows a channel type.
 */
export interface OutboundChannels {
  list(): { id: string; type: string; name: string }[];
  /** Queue the send in the caller's SQLite transaction; false when this (notification, channel) was queued before. */
  enqueue(channelId: string, message: QueuedNotification): boolean;
  /** After the transaction committed: let the lanes look for the new work. */
  wake(): void;
  /** What became of an earlier queued send; null when none was queued. */
  queued(noticeId: string, channelId: string): QueuedState;
}

/** No external channels configured (or none available in this build). */
export const noExternalChannels: OutboundChannels = {
  list: () => [],
  enqueue: () => false,
  wake: () => {},
  queued: () => null,
};

/** The channels the center delivers itself, by pushing to the desktop shell and to open UI pages. */
export const BUILT_IN_CHANNELS = [
  { id: 'desktop', type: 'desktop', name: 'Desktop' },
  { id: 'ui', type: 'ui', name: 'Open Panoptes pages' },
] as const;

export function isBuiltIn(channelId: string): channelId is 'desktop' | 'ui' {
  return channelId === 'desktop' || channelId === 'ui';
}
