// A generic webhook: POST (or PUT) the notification as JSON to any URL, with an Idempotency-Key header that stays
// the same across retries, so a receiver can drop a repeat. Apprise's json:// and jsons:// add one.
import { z } from 'zod';
import type { ChannelDefinition } from '../../core/notification-channel.js';
import { httpFailure, isHttpsOrLoopback } from '../../core/channel-http.js';
import { missing } from '../url-fields.js';

export const webhookConfigSchema = z.object({
  url: z
    .string()
    .trim()
    .url('an address like https://example.org/hook')
    .refine(isHttpsOrLoopback, { message: 'use https:// (plain http only to 127.0.0.1/localhost)' })
    .meta({ label: 'URL', help: 'Where to send each notification as JSON: {id, title, body, url, priority, kind, count, at}.' }),
  method: z.enum(['POST', 'PUT']).default('POST').meta({ label: 'Method', help: 'POST unless the receiver wants PUT.' }),
  authorization: z.string().optional().meta({ label: 'Authorization header', help: 'Sent as the Authorization header, e.g. "Bearer abc…". Stored in the secret store.', secret: true }),
});
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

const webhook: ChannelDefinition<WebhookConfig> = {
  type: 'webhook',
  title: 'Webhook',
  description: 'Each notification POSTed as JSON to a URL of your own (Home Assistant, n8n, a script).',
  configSchema: webhookConfigSchema,
  urlSchemes: ['json', 'jsons'],
  fromUrl(url) {
    if (!url.hostname) throw missing('host', 'jsons://example.org/hook');
    const https = url.protocol === 'jsons:';
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    return {
      url: `${https ? 'https' : 'http'}://${url.host}${url.pathname}${url.search}`,
      ...(user ? { authorization: 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64') } : {}),
    };
  },
  async send(m, ctx) {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': m.idempotencyKey };
    if (ctx.secrets.authorization) headers.authorization = ctx.secrets.authorization;
    const body = { id: m.id, title: m.title, body: m.body, url: m.url, priority: m.priority, kind: m.kind, count: m.count, at: m.at };
    const res = await ctx.fetch(ctx.config.url, { method: ctx.config.method, headers, body: JSON.stringify(body), timeoutMs: 15_000 });
    if (res.ok) return;
    throw httpFailure(res, { service: 'The webhook', authField: 'authorization', notFoundField: 'url', badRequestField: 'url' });
  },
};

export default webhook;
