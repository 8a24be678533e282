// Discord: an incoming webhook (Server settings → Integrations → Webhooks), POSTed as an embed with ?wait=true so
// Discord confirms the message was created. A 429 carries {"retry_after": seconds, "global": bool}.
import { z } from 'zod';
import type { ChannelDefinition } from '../../core/notification-channel.js';
import { httpFailure, isHttpsOrLoopback, jsonBody } from '../../core/channel-http.js';
import { clip } from '../message-text.js';
import { missing, segments } from '../url-fields.js';

const WEBHOOK = /^https:\/\/(?:\w+\.)?discord(?:app)?\.com\/api\/(?:v\d+\/)?webhooks\/\d+\/[\w-]+$/;

export const discordConfigSchema = z.object({
  webhookUrl: z
    .string()
    .trim()
    .url('the webhook URL Discord shows, https://discord.com/api/webhooks/…')
    .refine((u) => WEBHOOK.test(u) || (isHttpsOrLoopback(u) && !u.startsWith('https://discord')), { message: 'a Discord webhook URL looks like https://discord.com/api/webhooks/ID/TOKEN' })
    .meta({ label: 'Webhook URL', help: 'Channel settings → Integrations → Webhooks → Copy Webhook URL. It contains the webhook\'s token, so it is stored in the secret store.', secret: true }),
  username: z.string().trim().max(80).optional().meta({ label: 'Post as', help: 'The name the messages show; empty for the webhook\'s own.' }),
});
export type DiscordConfig = z.infer<typeof discordConfigSchema>;

const COLOR = { low: 0x95a5a6, normal: 0x3498db, high: 0xe67e22, urgent: 0xe74c3c } as const;

const discord: ChannelDefinition<DiscordConfig> = {
  type: 'discord',
  title: 'Discord',
  description: 'Messages to a Discord channel through a webhook.',
  configSchema: discordConfigSchema,
  urlSchemes: ['discord'],
  fromUrl(url) {
    // Apprise: discord://WEBHOOK_ID/WEBHOOK_TOKEN
    const id = url.hostname;
    const token = segments(url)[0];
    if (!id) throw missing('webhook id', 'discord://WEBHOOK_ID/WEBHOOK_TOKEN');
    if (!token) throw missing('webhook token', 'discord://WEBHOOK_ID/WEBHOOK_TOKEN');
    return { webhookUrl: `https://discord.com/api/webhooks/${id}/${token}` };
  },
  async send(m, ctx) {
    const url = new URL(ctx.secrets.webhookUrl ?? '');
    url.searchParams.set('wait', 'true');
    const body = {
      ...(ctx.config.username ? { username: ctx.config.username } : {}),
      // Nobody gets pinged by a notification's text.
      allowed_mentions: { parse: [] },
      embeds: [
        {
          title: clip(m.title, 256),
          ...(m.body && m.body !== m.title ? { description: clip(m.body, 4096) } : {}),
          ...(m.url ? { url: m.url } : {}),
          color: COLOR[m.priority],
          timestamp: m.at,
        },
      ],
    };
    const res = await ctx.fetch(url.href, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), timeoutMs: 15_000 });
    if (res.ok) return;
    // {"message":"Invalid Webhook Token","code":50027}; {"message":"You are being rate limited.","retry_after":1.5,"global":false}
    const err = jsonBody<{ message?: string; retry_after?: number }>(res);
    throw httpFailure(res, {
      service: 'Discord',
      authField: 'webhookUrl',
      notFoundField: 'webhookUrl',
      detail: err?.message ?? null,
      retryAfterMs: typeof err?.retry_after === 'number' ? Math.ceil(err.retry_after * 1000) : null,
    });
  },
};

export default discord;
