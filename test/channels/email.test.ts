// The email channel through a real SMTP server (Debian's aiosmtpd on loopback): the mail that arrives, its
// Message-ID fixed by the idempotency key (the same for a retry), and the refusals at their fields.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import email from '../../channels/email/index.js';
import { channelFromUrl } from '../../channels/registry.js';
import { parseChannelConfig } from '../../core/channel-config.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { freePort } from '../helpers/ports.js';
import { notification, sendError, sendWith } from '../helpers/channel-harness.js';

let sink: SmtpSink;
before(async () => {
  sink = await startSmtpSink();
});
after(() => sink?.close());

const config = () => ({ to: 'me@example.org', from: 'Panoptes <panoptes@example.org>', smtpHost: '127.0.0.1', smtpPort: sink.port, smtpSecurity: 'plain' });

test('email: the notification arrives as a mail with the title as subject; a retry has the same Message-ID', async () => {
  const n = notification({ idempotencyKey: 'notif-01HX:email:me' });
  await sendWith(email, config(), n);
  await sendWith(email, config(), n);
  const [a, b] = await sink.waitForMessages(2);
  assert.match(a!, /^Subject: Build failed$/m);
  assert.match(a!, /^To: me@example\.org$/m);
  assert.match(a!, /main is red <b>again<\/b> & again/);
  assert.match(a!, /https:\/\/ci\.example\.org\/run\/42/);
  const id = (raw: string) => /^Message-ID: (.+)$/im.exec(raw)?.[1]?.trim();
  assert.match(id(a!)!, /^<[0-9a-f]{32}\.notification@panoptes>$/);
  assert.equal(id(a!), id(b!));
});

test('email: no SMTP server listening is retryable; plain SMTP to another machine is refused at the security field', async () => {
  const err = await sendError(email, { ...config(), smtpPort: await freePort() });
  assert.equal(err.permanent, false);
  assert.match(err.message, /could not reach SMTP server/);
  assert.throws(() => parseChannelConfig(email, { ...config(), smtpHost: 'smtp.example.org' }), /smtpSecurity: plain SMTP is only allowed/);
});

test('email: mailto:// and mailtos:// URLs', () => {
  assert.deepEqual(channelFromUrl('mailtos://me%40example.org:pw@smtp.example.org?to=me@example.org'), {
    type: 'email',
    config: { to: 'me@example.org', smtpHost: 'smtp.example.org', smtpSecurity: 'tls', smtpUsername: 'me@example.org', smtpPassword: 'pw', from: 'me@example.org' },
  });
  assert.throws(() => channelFromUrl('mailto://user:pw@smtp.example.org'), /no recipient/);
});
