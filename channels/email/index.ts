// Email: each notification as one plain-text mail through your SMTP server (the same sender as the mail
// monitor's `email` action). Its Message-ID comes from the idempotency key, so a retried send is recognisably
// the same mail.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ChannelDefinition } from '../../core/notification-channel.js';
import { ChannelError } from '../../core/notification-channel.js';
import { sendMail } from '../../base/smtp.js';
import { clip } from '../message-text.js';
import { missing } from '../url-fields.js';

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|::1|\[::1\])$/i;
const ADDRESS = /^[^@\s<>]+@[^@\s<>]+$/;

export const emailConfigSchema = z
  .object({
    to: z
      .string()
      .trim()
      .refine((s) => s.split(',').every((a) => ADDRESS.test(a.trim())), { message: 'one or more addresses like me@example.org, separated by commas' })
      .meta({ label: 'Send to', help: 'Your address (several: separated by commas).' }),
    smtpHost: z.string().trim().min(1, 'required').meta({ label: 'SMTP server', help: 'Host name of your outgoing mail server, e.g. smtp.example.org.' }),
    smtpPort: z.number().int().min(1).max(65535).optional().meta({ label: 'SMTP port', help: 'Defaults to 465 with TLS, 587 with STARTTLS, 25 plain.' }),
    smtpSecurity: z.enum(['tls', 'starttls', 'plain']).default('starttls').meta({ label: 'Security', help: 'TLS from the first byte (465), STARTTLS (587), or plain — plain only to a server on this machine.' }),
    smtpUsername: z.string().trim().optional().meta({ label: 'User name', help: 'Login at the SMTP server; empty for a relay that needs none.' }),
    smtpPassword: z.string().optional().meta({ label: 'Password', help: 'Stored in the secret store.', secret: true }),
    from: z.string().trim().min(1, 'required').meta({ label: 'From', help: 'Sender address, e.g. "Panoptes <me@example.org>".' }),
    ca: z.string().trim().optional().meta({ label: 'CA file', help: 'Path of a PEM file with a private CA, when the server\'s certificate is signed by one.' }),
  })
  .superRefine((c, ctx) => {
    if (c.smtpSecurity === 'plain' && !LOOPBACK.test(c.smtpHost)) ctx.addIssue({ code: 'custom', path: ['smtpSecurity'], message: 'plain SMTP is only allowed to 127.0.0.1/localhost' });
  });
export type EmailConfig = z.infer<typeof emailConfigSchema>;

const email: ChannelDefinition<EmailConfig> = {
  type: 'email',
  title: 'Email',
  description: 'Each notification as a short mail to your address, through your SMTP server.',
  configSchema: emailConfigSchema,
  urlSchemes: ['mailto', 'mailtos'],
  fromUrl(url) {
    // mailtos://USER:PASSWORD@smtp.example.org[:port]?to=me@example.org&from=…  (mailtos: TLS, mailto: STARTTLS)
    if (!url.hostname) throw missing('SMTP server', 'mailtos://user:password@smtp.example.org?to=me@example.org');
    const user = decodeURIComponent(url.username);
    const to = url.searchParams.get('to') ?? (user.includes('@') ? user : '');
    if (!to) throw missing('recipient (?to=…)', 'mailtos://user:password@smtp.example.org?to=me@example.org');
    const security = url.searchParams.get('security') ?? (url.protocol === 'mailtos:' ? (url.port === '587' ? 'starttls' : 'tls') : 'starttls');
    return {
      to,
      smtpHost: url.searchParams.get('smtp') ?? url.hostname,
      ...(url.port ? { smtpPort: Number(url.port) } : {}),
      smtpSecurity: security,
      ...(user ? { smtpUsername: user } : {}),
      ...(url.password ? { smtpPassword: decodeURIComponent(url.password) } : {}),
      from: url.searchParams.get('from') ?? (user.includes('@') ? user : to),
    };
  },
  async send(m, ctx) {
    const digest = createHash('sha256').update(m.idempotencyKey).digest('hex').slice(0, 32);
    const body = [m.body && m.body !== m.title ? m.body : '', m.url ?? '', m.count > 1 ? `(${m.count} events)` : ''].filter(Boolean).join('\n\n');
    let sent;
    try {
      sent = await sendMail(ctx.config, ctx.secrets.smtpPassword ? { smtpPassword: ctx.secrets.smtpPassword } : {}, {
        to: ctx.config.to,
        subject: clip(m.title.replace(/[\r\n]+/g, ' '), 200),
        body: body || m.title,
        messageId: `<${digest}.notification@panoptes>`,
      });
    } catch (err) {
      const e = err as Error;
      if (/authentication failed/i.test(e.message)) throw new ChannelError(e.message, { permanent: true, field: 'smtpPassword' });
      if (e.name === 'CertificateError') throw new ChannelError(e.message, { permanent: true, field: 'ca' });
      if (/only allowed to 127/.test(e.message)) throw new ChannelError(e.message, { permanent: true, field: 'smtpSecurity' });
      throw new ChannelError(e.message);
    }
    if (sent.rejected.length && !sent.accepted.length) throw new ChannelError(`the SMTP server refused ${sent.rejected.join(', ')}`, { permanent: true, field: 'to' });
  },
};

export default email;
