// Telegram: the Bot API's sendMessage (POST https://api.telegram.org/bot<token>/sendMessage) to a chat the bot is
// in, HTML-formatted. Telegram answers {"ok":false,"error_code":…,"description":…}, and on 429 says when to come
// back in parameters.retry_after (seconds).
import { z } from 'zod';
import type { ChannelDefinition } from '../../core/notification-channel.js';
import { ChannelError } from '../../core/notification-channel.js';
import { httpFailure, joinUrl, jsonBody } from '../../core/channel-http.js';
import { htmlText } from '../message-text.js';
import { missing, serviceUrl } from '../url-fields.js';

const BOT_TOKEN = /^\d{3,}:[A-Za-z0-9_-]{20,}$/;

export const telegramConfigSchema = z.object({
  botToken: z
    .string()
    .trim()
    .regex(BOT_TOKEN, 'a bot token looks like 123456789:AAE…, as @BotFather gave it')
    .meta({ label: 'Bot token', help: 'Create a bot with @BotFather and paste its token. Stored in the secret store.', secret: true }),
  chatId: z
    .string()
    .trim()
    .regex(/^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,})$/, 'a chat id (a number, negative for groups) or @channelname')
    .meta({ label: 'Chat', help: 'Your chat id (message the bot, then read it from getUpdates), a group id (-100…) or @channel.' }),
  api: serviceUrl('API address', 'Leave as is unless you run your own Bot API server.').default('https://api.telegram.org'),
});
export type TelegramConfig = z.infer<typeof telegramConfigSchema>;

const telegram: ChannelDefinition<TelegramConfig> = {
  type: 'telegram',
  title: 'Telegram',
  description: 'Messages from your own Telegram bot to you, a group or a channel.',
  configSchema: telegramConfigSchema,
  urlSchemes: ['tgram', 'telegram'],
  fromUrl(_url, raw) {
    // tgram://123456789:AAE…/CHAT_ID — the token's colon is not a port, so read the text, not a URL.
    const rest = raw.replace(/^[a-z]+:\/\//i, '').split(/[?#]/)[0]!;
    const [token, chat] = rest.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
    if (!token) throw missing('bot token', 'tgram://123456789:AAE…/CHAT_ID');
    if (!BOT_TOKEN.test(token)) throw new ChannelError('the bot token in the URL does not look like 123456789:AAE… (as @BotFather gave it)', { permanent: true, field: 'url' });
    if (!chat) throw missing('chat id', 'tgram://123456789:AAE…/CHAT_ID');
    return { botToken: token, chatId: chat };
  },
  async send(m, ctx) {
    const token = ctx.secrets.botToken ?? '';
    const res = await ctx.fetch(joinUrl(ctx.config.api, `bot${token}/sendMessage`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        chat_id: ctx.config.chatId,
        text: htmlText(m, 4096),
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
        disable_notification: m.priority === 'low',
      }),
      timeoutMs: 15_000,
    });
    const answer = jsonBody<{ ok?: boolean; description?: string; parameters?: { retry_after?: number } }>(res);
    if (res.ok && answer?.ok !== false) return;
    const detail = answer?.description ?? null;
    // "Bad Request: chat not found" and "Forbidden: bot was blocked by the user" are about the chat, not the token.
    if ((res.status === 400 && /chat/i.test(detail ?? '')) || (res.status === 403 && /(chat|user|bot was)/i.test(detail ?? ''))) {
      throw new ChannelError(`Telegram: ${detail}`, { permanent: true, field: 'chatId' });
    }
    const retry = answer?.parameters?.retry_after;
    // A wrong token is 401 ("Unauthorized") or 404 ("Not Found": no bot with that token).
    throw httpFailure(res, { service: 'Telegram', authField: 'botToken', notFoundField: 'botToken', badRequestField: null, detail, retryAfterMs: typeof retry === 'number' ? retry * 1000 : null });
  },
};

export default telegram;
