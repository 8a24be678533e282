// Pushover: POST https://api.pushover.net/1/messages.json with the application token and the user key, as
// Pushover's Message API documents. Emergency priority (2) must say how often to repeat and when to stop.
import { z } from 'zod';
import type { ChannelDefinition } from '../../core/notification-channel.js';
import { ChannelError } from '../../core/notification-channel.js';
import { httpFailure, joinUrl, jsonBody } from '../../core/channel-http.js';
import { clip, PRIORITY_RANK } from '../message-text.js';
import { missing, segments, serviceUrl } from '../url-fields.js';

export const pushoverConfigSchema = z.object({
  userKey: z.string().trim().min(1, 'required').meta({ label: 'User key', help: 'Your user (or group) key, shown on pushover.net after you log in. Stored in the secret store.', secret: true }),
  token: z.string().trim().min(1, 'required').meta({ label: 'API token', help: 'The token of an application you create at pushover.net/apps/build. Stored in the secret store.', secret: true }),
  device: z.string().trim().optional().meta({ label: 'Device', help: 'Only this device (its name); empty for all your devices.' }),
  sound: z.string().trim().optional().meta({ label: 'Sound', help: 'A Pushover sound name (pushover, bike, siren…); empty for your default.' }),
  api: serviceUrl('API address', 'Leave as is unless you go through a proxy.').default('https://api.pushover.net'),
});
export type PushoverConfig = z.infer<typeof pushoverConfigSchema>;

/** Pushover's -2 … 2; urgent is "emergency", repeated until acknowledged. */
const PRIORITY = [-1, 0, 1, 2];

const pushover: ChannelDefinition<PushoverConfig> = {
  type: 'pushover',
  title: 'Pushover',
  description: 'Notifications to the Pushover app on your phone, tablet or desktop. Urgent ones repeat until you acknowledge them.',
  configSchema: pushoverConfigSchema,
  urlSchemes: ['pover', 'pushover'],
  fromUrl(url) {
    // Apprise: pover://USER_KEY@TOKEN[/DEVICE] (a non-special scheme: the host keeps its case).
    const userKey = decodeURIComponent(url.username);
    const token = url.hostname;
    if (!userKey) throw missing('user key', 'pover://USER_KEY@API_TOKEN');
    if (!token) throw missing('API token', 'pover://USER_KEY@API_TOKEN');
    const device = segments(url)[0];
    return { userKey, token, ...(device ? { device } : {}), ...(url.searchParams.get('sound') ? { sound: url.searchParams.get('sound') } : {}) };
  },
  async send(m, ctx) {
    const priority = PRIORITY[PRIORITY_RANK[m.priority]]!;
    const form = new URLSearchParams({
      token: ctx.secrets.token ?? '',
      user: ctx.secrets.userKey ?? '',
      title: clip(m.title, 250),
      message: clip(m.body || m.title, 1024),
      priority: String(priority),
      timestamp: String(Math.floor(Date.parse(m.at) / 1000) || Math.floor(Date.now() / 1000)),
    });
    if (priority === 2) {
      form.set('retry', '60');
      form.set('expire', '3600');
    }
    if (m.url) {
      form.set('url', clip(m.url, 512));
      form.set('url_title', 'Open');
    }
    if (ctx.config.device) form.set('device', ctx.config.device);
    if (ctx.config.sound) form.set('sound', ctx.config.sound);
    const res = await ctx.fetch(joinUrl(ctx.config.api, '1/messages.json'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      timeoutMs: 15_000,
    });
    // Success is {"status":1,"request":"…"}; a refusal is 4xx with {"token":"invalid","errors":[…],"status":0}.
    const answer = jsonBody<{ status?: number; errors?: string[]; token?: string; user?: string; device?: string }>(res);
    if (res.ok && answer?.status === 1) return;
    const detail = answer?.errors?.join('; ') ?? null;
    if (res.status >= 400 && res.status < 500 && res.status !== 429 && answer) {
      const field = answer.token === 'invalid' ? 'token' : answer.user === 'invalid' ? 'userKey' : answer.device ? 'device' : null;
      if (field) throw new ChannelError(`Pushover refused the ${field === 'userKey' ? 'user key' : field === 'token' ? 'API token' : 'device'}: ${detail ?? 'invalid'}`, { permanent: true, field });
    }
    if (res.ok) throw new ChannelError(`Pushover did not accept the message: ${detail ?? 'no status in its answer'}`, { permanent: true });
    throw httpFailure(res, { service: 'Pushover', authField: 'token', detail });
  },
};

export default pushover;
