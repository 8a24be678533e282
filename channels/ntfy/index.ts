// ntfy (https://ntfy.sh or a self-hosted server): one JSON publish per notification to the server's root, with
// the topic, title, priority (1-5), click URL and sequence ID in the body, as ntfy's "publish as JSON" documents.
import { z } from 'zod';
import type { ChannelDefinition } from '../../core/notification-channel.js';
import { ChannelError } from '../../core/notification-channel.js';
import { httpFailure, jsonBody } from '../../core/channel-http.js';
import { clip, PRIORITY_RANK } from '../message-text.js';
import { missing, originOf, segments, serviceUrl } from '../url-fields.js';

export const ntfyConfigSchema = z.object({
  server: serviceUrl('Server', 'https://ntfy.sh, or your own ntfy server.').default('https://ntfy.sh'),
  topic: z
    .string()
    .trim()
    .regex(/^[-_A-Za-z0-9]{1,64}$/, 'a topic uses letters, digits, - and _ (at most 64)')
    .meta({ label: 'Topic', help: 'The topic your phone subscribes to. On ntfy.sh anyone who knows it can read it: pick something hard to guess.' }),
  token: z.string().optional().meta({ label: 'Access token', help: 'For a protected topic: an access token (tk_…). Stored in the secret store.', secret: true }),
  username: z.string().optional().meta({ label: 'User name', help: 'For a protected topic without a token: user name and password.' }),
  password: z.string().optional().meta({ label: 'Password', help: 'Stored in the secret store.', secret: true }),
  tags: z.string().optional().meta({ label: 'Tags', help: 'Comma-separated ntfy tags; names of emoji (warning, bell) show as emoji.' }),
});
export type NtfyConfig = z.infer<typeof ntfyConfigSchema>;

/** ntfy's 1 (min) … 5 (max); 3 is its default. */
const PRIORITY = [2, 3, 4, 5];

const ntfy: ChannelDefinition<NtfyConfig> = {
  type: 'ntfy',
  title: 'ntfy',
  description: 'Push notifications to your phone through ntfy.sh or your own ntfy server (Android, iOS, web).',
  configSchema: ntfyConfigSchema,
  urlSchemes: ['ntfy', 'ntfys'],
  fromUrl(url) {
    const parts = segments(url);
    // ntfy://topic alone means the public ntfy.sh, as Apprise reads it.
    if (!parts.length) {
      if (!url.hostname) throw missing('topic', 'ntfys://ntfy.sh/my-topic');
      return { server: 'https://ntfy.sh', topic: url.hostname, ...auth(url) };
    }
    const topic = parts.at(-1)!;
    const prefix = parts.slice(0, -1).join('/');
    return { server: originOf(url, 'ntfys') + (prefix ? `/${prefix}` : ''), topic, ...auth(url), ...(url.searchParams.get('tags') ? { tags: url.searchParams.get('tags') } : {}) };
  },
  async send(m, ctx) {
    const { server, topic, tags } = ctx.config;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const token = ctx.secrets.token;
    if (token) headers.authorization = `Bearer ${token}`;
    else if (ctx.config.username && ctx.secrets.password) headers.authorization = 'Basic ' + Buffer.from(`${ctx.config.username}:${ctx.secrets.password}`).toString('base64');
    const body = {
      topic,
      title: clip(m.title, 250),
      message: clip(m.body || m.title, 4000),
      priority: PRIORITY[PRIORITY_RANK[m.priority]],
      ...(m.url ? { click: m.url } : {}),
      ...(tags ? { tags: tags.split(',').map((t) => t.trim()).filter(Boolean) } : {}),
      // ntfy 2.16+ shows messages with one sequence ID as one notification (a later one replaces it), so a send
      // repeated after a lost answer or a crash does not ring twice; older servers ignore the field. The send's
      // idempotency key (stable over attempts), in ntfy's alphabet for ids.
      sequence_id: sequenceId(m.idempotencyKey),
    };
    const res = await ctx.fetch(server.replace(/\/+$/, '') + '/', { method: 'POST', headers, body: JSON.stringify(body), timeoutMs: 15_000 });
    if (res.ok) return;
    // ntfy answers errors as {"code":40101,"http":401,"error":"unauthorized","link":"…"}.
    const err = jsonBody<{ error?: string; code?: number }>(res);
    const authField = token ? 'token' : ctx.config.username ? 'password' : 'token';
    if ((res.status === 401 || res.status === 403) && !token && !ctx.config.username) {
      throw new ChannelError(`ntfy: the topic "${topic}" is protected (${res.status}); an access token is needed`, { permanent: true, field: 'token' });
    }
    throw httpFailure(res, { service: 'ntfy', authField, notFoundField: 'server', badRequestField: 'topic', detail: err?.error ?? null });
  },
};

/** ntfy's ids are letters, digits, - and _ (at most 64). */
function sequenceId(key: string): string {
  return key.replace(/[^-_A-Za-z0-9]/g, '_').slice(0, 64);
}

function auth(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  const token = url.searchParams.get('token');
  if (token) out.token = token;
  else if (user && pass) Object.assign(out, { username: user, password: pass });
  else if (user) out.token = user; // ntfys://tk_abc@host/topic
  return out;
}

export default ntfy;
