import type { OutgoingNotification } from '../../core/notification-channel.js';

/**
 * The center's narrow view of the external channels (channels/<type>/: ntfy, Gotify, Telegram…): which exist, and
 * send one notification to one of them. The channel registry implements it; the center never knows a channel type.
 * `send` rejects with a ChannelError (or any Error) when the channel did not take the notification.
 */
export interface OutboundChannels {
  list(): { id: string; type: string; name: string }[];
  send(channelId: string, message: OutgoingNotification): Promise<void>;
}

/** No external channels configured (or none available in this build). */
export const noExternalChannels: OutboundChannels = {
  list: () => [],
  send: async (channelId) => {
    throw new Error(`there is no channel "${channelId}"`);
  },
};

/** The channels the center delivers itself, by pushing to the desktop shell and to open UI pages. */
export const BUILT_IN_CHANNELS = [
  { id: 'desktop', type: 'desktop', name: 'Desktop' },
  { id: 'ui', type: 'ui', name: 'Open Panoptes pages' },
] as const;

export function isBuiltIn(channelId: string): channelId is 'desktop' | 'ui' {
  return channelId === 'desktop' || channelId === 'ui';
}
