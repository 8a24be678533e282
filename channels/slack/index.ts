// Slack: an incoming webhook (https://hooks.slack.com/services/T…/B…/…), POSTed as JSON with a `text` in Slack's
// mrkdwn. Slack answers "ok", or an error word as text: invalid_token (403), no_service / channel_not_found (404),
// channel_is_archived (410), invalid_payload (400); rate limits are 429 with Retry-After.
import { z } from 'zod';
import type { ChannelDefinition } from '../../core/notification-channel.js';
import { ChannelError } from '../../core/notification-channel.js';
import { httpFailure, isHttpsOrLoopback } from '../../core/channel-http.js';
import { clip } from '../message-text.js';
import { missing, segments } from '../url-fields.js';

export const slackConfigSchema = z.object({
  webhookUrl: z
    .string()
    .trim()
    .url('the webhook URL Slack shows, https://hooks.slack.com/services/…')
    .refine(isHttpsOrLoopback, { message: 'use the https:// webhook URL Slack shows' })
    .meta({ label: 'Webhook URL', help: 'Slack app → Incoming Webhooks → Add New Webhook to Workspace. It is a password, so it is stored in the secret store.', secret: true }),
});
export type SlackConfig = z.infer<typeof slackConfigSchema>;

/** Slack's mrkdwn needs only &, < and > escaped. */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const slack: ChannelDefinition<SlackConfig> = {
  type: 'slack',
  title: 'Slack',
  description: 'Messages to a Slack channel through an incoming webhook.',
  configSchema: slackConfigSchema,
  urlSchemes: ['slack'],
  fromUrl(url) {
    // Apprise: slack://TokenA/TokenB/TokenC, the three parts of hooks.slack.com/services/A/B/C
    const parts = [url.hostname, ...segments(url)].filter(Boolean);
    if (parts.length < 3) throw missing(['first token (T…)', 'second token (B…)', 'third token'][parts.length]!, 'slack://T000/B000/XXXX');
    return { webhookUrl: `https://hooks.slack.com/services/${parts.slice(0, 3).map(encodeURIComponent).join('/')}` };
  },
  async send(m, ctx) {
    const title = `*${esc(clip(m.title, 250))}*`;
    const body = m.body && m.body !== m.title ? '\n' + esc(clip(m.body, 3000)) : '';
    const link = m.url ? `\n<${m.url.replace(/[|>]/g, encodeURIComponent)}|Open>` : '';
    const res = await ctx.fetch(ctx.secrets.webhookUrl ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: title + body + link }),
      timeoutMs: 15_000,
    });
    if (res.ok) return;
    const word = res.body.subarray(0, 200).toString('utf8').trim();
    if (res.status === 404 || res.status === 410) throw new ChannelError(`Slack: ${word || 'the webhook is gone'} (${res.status})`, { permanent: true, field: 'webhookUrl' });
    throw httpFailure(res, { service: 'Slack', authField: 'webhookUrl', detail: word });
  },
};

export default slack;
