// Gotify (self-hosted): POST /message with the application token in X-Gotify-Key, as Gotify's API documents;
// the click URL travels in the extras Gotify's Android app reads (client::notification.click.url).
import { z } from 'zod';
import type { ChannelDefinition } from '../../core/notification-channel.js';
import { httpFailure, joinUrl, jsonBody } from '../../core/channel-http.js';
import { clip, PRIORITY_RANK } from '../message-text.js';
import { missing, originOf, segments, serviceUrl } from '../url-fields.js';

export const gotifyConfigSchema = z.object({
  server: serviceUrl('Server', 'Your Gotify server, e.g. https://gotify.example.org.'),
  token: z.string().min(1, 'required').meta({ label: 'Application token', help: 'Gotify → Apps → Create application; its token. Stored in the secret store.', secret: true }),
});
export type GotifyConfig = z.infer<typeof gotifyConfigSchema>;

/** Gotify's Android app: 0 silent, 1-3 quiet, 4-7 sound, 8-10 high. */
const PRIORITY = [2, 5, 8, 10];

const gotify: ChannelDefinition<GotifyConfig> = {
  type: 'gotify',
  title: 'Gotify',
  description: 'Notifications through your own Gotify server to its Android app and web page.',
  configSchema: gotifyConfigSchema,
  urlSchemes: ['gotify', 'gotifys'],
  fromUrl(url) {
    const parts = segments(url);
    if (!url.hostname) throw missing('server', 'gotifys://gotify.example.org/APP-TOKEN');
    if (!parts.length) throw missing('token', 'gotifys://gotify.example.org/APP-TOKEN');
    const token = parts.at(-1)!;
    const prefix = parts.slice(0, -1).join('/');
    return { server: originOf(url, 'gotifys') + (prefix ? `/${prefix}` : ''), token };
  },
  async send(m, ctx) {
    const body = {
      title: clip(m.title, 250),
      message: clip(m.body || m.title, 8000),
      priority: PRIORITY[PRIORITY_RANK[m.priority]],
      extras: {
        'client::display': { contentType: 'text/plain' },
        ...(m.url ? { 'client::notification': { click: { url: m.url } } } : {}),
      },
    };
    const res = await ctx.fetch(joinUrl(ctx.config.server, 'message'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-gotify-key': ctx.secrets.token ?? '' },
      body: JSON.stringify(body),
      timeoutMs: 15_000,
    });
    if (res.ok) return;
    // {"error":"Unauthorized","errorCode":401,"errorDescription":"you need to provide a valid access token …"}
    const err = jsonBody<{ error?: string; errorDescription?: string }>(res);
    throw httpFailure(res, { service: 'Gotify', authField: 'token', notFoundField: 'server', detail: err?.errorDescription ?? err?.error ?? null });
  },
};

export default gotify;
