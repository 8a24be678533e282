// XMPP (Jabber): one chat message from an account of yours to your own address, over a client connection with
// @xmpp/client. The message id is the notification's idempotency key; a ping after it is answered only once the
// server has handled the message (a stream is processed in order), so "sent" means the server has it.
import { z } from 'zod';
import type { XmppClient } from '@xmpp/client';
import type { ChannelDefinition } from '../../core/notification-channel.js';
import { ChannelError } from '../../core/notification-channel.js';
import { plainText } from '../message-text.js';
import { missing, segments } from '../url-fields.js';

const JID = /^[^@/\s]+@[^@/\s]+$/;
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/i;

export const xmppConfigSchema = z.object({
  jid: z.string().trim().regex(JID, 'an address like panoptes@example.org').meta({ label: 'Send as', help: 'The XMPP account that sends (one for Panoptes alone is best), e.g. panoptes@example.org.' }),
  password: z.string().min(1, 'required').meta({ label: 'Password', help: 'That account\'s password. Stored in the secret store.', secret: true }),
  to: z.string().trim().regex(JID, 'an address like you@example.org').meta({ label: 'Send to', help: 'Your own XMPP address; the message arrives in your client (Conversations, Gajim, Dino…).' }),
  server: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'host or host:port')
    .optional()
    .meta({ label: 'Server', help: 'host:port when the server is not at the account\'s domain on port 5222.' }),
  directTls: z.boolean().default(false).meta({ label: 'Direct TLS', help: 'Connect with TLS from the start (port 5223) instead of upgrading with STARTTLS.' }),
});
export type XmppConfig = z.infer<typeof xmppConfigSchema>;

const xmpp: ChannelDefinition<XmppConfig> = {
  type: 'xmpp',
  title: 'XMPP',
  description: 'Chat messages to your XMPP (Jabber) address, sent from an account of yours.',
  configSchema: xmppConfigSchema,
  urlSchemes: ['xmpp', 'xmpps'],
  fromUrl(url) {
    // xmpp://panoptes:PASSWORD@example.org/you@example.org (xmpps: direct TLS)
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    if (!user) throw missing('account', 'xmpps://panoptes:PASSWORD@example.org/you@example.org');
    if (!password) throw missing('password', 'xmpps://panoptes:PASSWORD@example.org/you@example.org');
    const to = segments(url)[0];
    if (!to) throw missing('recipient', 'xmpps://panoptes:PASSWORD@example.org/you@example.org');
    const jid = user.includes('@') ? user : `${user}@${url.hostname}`;
    const server = url.port || jid.split('@')[1] !== url.hostname ? url.host : undefined;
    return { jid, password, to, ...(server ? { server } : {}), ...(url.protocol === 'xmpps:' ? { directTls: true } : {}) };
  },
  async send(m, ctx) {
    const [local, domain] = ctx.config.jid.split('@') as [string, string];
    const target = ctx.config.server ?? domain;
    const host = target.replace(/:\d+$/, '');
    const loopback = LOOPBACK.test(host);
    const service = ctx.config.directTls ? `xmpps://${target.includes(':') ? target : `${target}:5223`}` : `xmpp://${target.includes(':') ? target : `${target}:5222`}`;
    // Loaded on the first message: @xmpp/client and its dozen parts stay out of an engine that never sends one.
    const { client, xml } = await import('@xmpp/client');
    const conn: XmppClient = client({ service, domain, username: local, password: ctx.secrets.password ?? '', resource: `panoptes-${process.pid}` });
    conn.reconnect.stop(); // one attempt per send; the center retries with backoff
    let failure: (Error & { condition?: string; code?: string }) | null = null;
    conn.on('error', (err) => (failure ??= err));
    const onAbort = () => void conn.stop().catch(() => {});
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      try {
        await conn.start();
      } catch (err) {
        throw describe(failure ?? (err as Error), target);
      }
      // A password went through SCRAM either way; the message itself must not cross a network in clear.
      if (!conn.isSecure() && !loopback) throw new ChannelError(`${target} offered no TLS; Panoptes sends no messages over an unencrypted connection`, { permanent: true, field: 'server' });
      await conn.send(xml('message', { type: 'chat', to: ctx.config.to, id: m.idempotencyKey }, xml('body', {}, plainText(m, 10_000))));
      await conn.iqCaller.request(xml('iq', { type: 'get', to: domain }, xml('ping', { xmlns: 'urn:xmpp:ping' })), 15_000);
    } catch (err) {
      if (err instanceof ChannelError) throw err;
      throw describe(err as Error, target);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      await conn.stop().catch(() => {});
    }
  },
};

function describe(err: Error & { condition?: string; code?: string }, target: string): ChannelError {
  if (err.name === 'SASLError' || err.condition === 'not-authorized') return new ChannelError(`XMPP: ${target} did not accept the account and password (${err.condition ?? 'not-authorized'})`, { permanent: true, field: 'password' });
  if (err.condition === 'host-unknown') return new ChannelError(`XMPP: ${target} does not serve this account's domain`, { permanent: true, field: 'jid' });
  if (err.code === 'ECONNREFUSED') return new ChannelError(`XMPP: connection refused by ${target}`);
  if (err.code === 'ENOTFOUND') return new ChannelError(`XMPP: no server found at ${target}`, { field: 'server' });
  return new ChannelError(`XMPP: ${err.message}`);
}

export default xmpp;
