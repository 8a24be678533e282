// Matrix: the client-server API's room send, PUT /_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId},
// with the notification's idempotency key as the transaction id, so a retried send is the same event, never a
// second message. A room alias (#room:server) is resolved through the directory first.
import { z } from 'zod';
import type { ChannelContext, ChannelDefinition } from '../../core/notification-channel.js';
import { ChannelError } from '../../core/notification-channel.js';
import { httpFailure, joinUrl, jsonBody } from '../../core/channel-http.js';
import { clip, htmlText, plainText } from '../message-text.js';
import { missing, originOf, segments, serviceUrl } from '../url-fields.js';

export const matrixConfigSchema = z.object({
  homeserver: serviceUrl('Homeserver', 'Your homeserver\'s address, e.g. https://matrix.org.'),
  accessToken: z.string().trim().min(1, 'required').meta({ label: 'Access token', help: 'Of the account that posts (a bot account is best): Element → Settings → Help & About → Access token. Stored in the secret store.', secret: true }),
  room: z
    .string()
    .trim()
    .regex(/^[!#][^:\s]+:\S+$/, 'a room id (!abc:example.org) or alias (#room:example.org)')
    .meta({ label: 'Room', help: 'The room id (!…:server) or alias (#…:server); the account must have joined it.' }),
});
export type MatrixConfig = z.infer<typeof matrixConfigSchema>;

interface MatrixError {
  errcode?: string;
  error?: string;
  retry_after_ms?: number;
}

const matrix: ChannelDefinition<MatrixConfig> = {
  type: 'matrix',
  title: 'Matrix',
  description: 'Messages to a Matrix room (Element and every other Matrix client), sent as an account you choose.',
  configSchema: matrixConfigSchema,
  urlSchemes: ['matrix', 'matrixs'],
  fromUrl(url) {
    // matrixs://ACCESS_TOKEN@matrix.example.org/!room:example.org (or #alias:server, written %23alias or as #alias)
    if (!url.hostname) throw missing('homeserver', 'matrixs://ACCESS_TOKEN@matrix.org/!room:matrix.org');
    const accessToken = decodeURIComponent(url.password || url.username);
    if (!accessToken) throw missing('access token', 'matrixs://ACCESS_TOKEN@matrix.org/!room:matrix.org');
    const room = segments(url)[0] ?? (url.hash ? decodeURIComponent(url.hash) : '');
    if (!room) throw missing('room', 'matrixs://ACCESS_TOKEN@matrix.org/!room:matrix.org');
    return { homeserver: originOf(url, 'matrixs'), accessToken, room };
  },
  async send(m, ctx) {
    const roomId = ctx.config.room.startsWith('#') ? await resolveAlias(ctx) : ctx.config.room;
    const path = `_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${encodeURIComponent(m.idempotencyKey)}`;
    const res = await ctx.fetch(joinUrl(ctx.config.homeserver, path), {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.secrets.accessToken ?? ''}` },
      body: JSON.stringify({
        msgtype: m.priority === 'low' ? 'm.notice' : 'm.text',
        body: plainText(m, 16_000),
        format: 'org.matrix.custom.html',
        formatted_body: htmlText(m, 16_000).replace(/\n/g, '<br>'),
      }),
      timeoutMs: 15_000,
    });
    if (res.ok) return;
    throw matrixFailure(res);
  },
};

async function resolveAlias(ctx: ChannelContext<MatrixConfig>): Promise<string> {
  const res = await ctx.fetch(joinUrl(ctx.config.homeserver, `_matrix/client/v3/directory/room/${encodeURIComponent(ctx.config.room)}`), {
    headers: { authorization: `Bearer ${ctx.secrets.accessToken ?? ''}` },
    timeoutMs: 15_000,
  });
  const answer = jsonBody<{ room_id?: string } & MatrixError>(res);
  if (res.ok && answer?.room_id) return answer.room_id;
  if (res.status === 404) throw new ChannelError(`Matrix: no room is called ${ctx.config.room}`, { permanent: true, field: 'room' });
  throw matrixFailure(res);
}

function matrixFailure(res: Parameters<typeof httpFailure>[0]): ChannelError {
  const err = jsonBody<MatrixError>(res);
  const detail = err ? [err.errcode, err.error].filter(Boolean).join(': ') : null;
  // M_FORBIDDEN on send: the account is not in the room (or may not post there) — the room is what to fix.
  if (res.status === 403 && err?.errcode === 'M_FORBIDDEN') return new ChannelError(`Matrix: ${detail}`, { permanent: true, field: 'room' });
  return httpFailure(res, { service: 'Matrix', authField: 'accessToken', notFoundField: 'room', detail: detail ? clip(detail, 300) : null, retryAfterMs: err?.retry_after_ms ?? null });
}

export default matrix;
