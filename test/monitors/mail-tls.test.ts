// The mail monitor and the email action over real TLS: Dovecot with `ssl = required` (IMAPS and STARTTLS) and
// aiosmtpd with STARTTLS and with SMTPS, all holding a certificate from a CA made for this run. The monitor must
// check that certificate against the configured CA file and refuse one it cannot trust, saying so.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import mail from '../../monitors/mail/index.js';
import { sendMail } from '../../monitors/mail/send.js';
import { dryRunMonitor } from '../../core/monitor-host.js';
import { startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { createTestPki, type TestPki } from '../helpers/test-ca.js';
import { runMonitor } from '../helpers/monitor-harness.js';

let pki: TestPki;
let dovecot: DovecotServer;
let starttlsSink: SmtpSink;
let smtpsSink: SmtpSink;
let misnamedSink: SmtpSink;

before(async () => {
  pki = createTestPki();
  dovecot = await startDovecot({ tina: 'tinapw', stan: 'stanpw', wendy: 'wendypw' }, { tls: pki });
  starttlsSink = await startSmtpSink({ tls: { ...pki, mode: 'starttls' } });
  smtpsSink = await startSmtpSink({ tls: { ...pki, mode: 'smtps' } });
  // A good CA's certificate, but for another host name.
  misnamedSink = await startSmtpSink({ tls: { certFile: pki.otherHostCertFile, keyFile: pki.otherHostKeyFile, mode: 'smtps' } });
});
after(async () => {
  await Promise.all([dovecot?.close(), starttlsSink?.close(), smtpsSink?.close(), misnamedSink?.close()]);
  pki?.close();
});

const imaps = (user: string, extra: Record<string, unknown> = {}) => ({ host: '127.0.0.1', port: dovecot.tlsPort, security: 'tls', username: user, ca: pki.caFile, ...extra });
const starttls = (user: string, extra: Record<string, unknown> = {}) => ({ host: '127.0.0.1', port: dovecot.port, security: 'starttls', username: user, ca: pki.caFile, ...extra });

const message = (subject: string) =>
  [`From: sender@example.org`, `To: someone@example.org`, `Subject: ${subject}`, `Message-ID: <${Math.random().toString(36).slice(2)}@example.org>`, `MIME-Version: 1.0`, `Content-Type: text/plain; charset=utf-8`, ``, `Body of ${subject}.`, ``].join('\r\n');

/** Dovecot counts loopback as secure even without TLS, so its login line is the proof that TLS was used. */
const loggedInOverTls = (user: string) => dovecot.log.some((l) => l.includes(`Login: user=<${user}>`) && /\bTLS\b/.test(l));

test('IMAPS (TLS from the first byte): the certificate is checked against the CA file and mail is pushed', async () => {
  const run = await runMonitor(mail, imaps('tina'), { secrets: { password: 'tinapw' } });
  try {
    const h = await run.waitForHealth((x) => x.status === 'ok', 15_000, 'connected over TLS');
    assert.match(h.message ?? '', /IDLE.*TLS, certificate verified/);
    assert.ok(loggedInOverTls('tina'), `Dovecot logged a TLS login:\n${dovecot.log.filter((l) => l.includes('tina')).join('\n')}`);
    dovecot.deliver('tina', message('over IMAPS'));
    const [e] = await run.waitForEvents(1, 10_000);
    assert.equal(e!.title, 'over IMAPS');
    assert.equal(e!.fields!.snippet, 'Body of over IMAPS.');
  } finally {
    await run.stop();
  }
});

test('STARTTLS: the plain connection is upgraded before logging in, certificate checked, mail is pushed', async () => {
  const run = await runMonitor(mail, starttls('stan'), { secrets: { password: 'stanpw' } });
  try {
    const h = await run.waitForHealth((x) => x.status === 'ok', 15_000, 'connected with STARTTLS');
    assert.match(h.message ?? '', /IDLE.*STARTTLS, certificate verified/);
    assert.ok(loggedInOverTls('stan'), `Dovecot logged a TLS login:\n${dovecot.log.filter((l) => l.includes('stan')).join('\n')}`);
    dovecot.deliver('stan', message('after STARTTLS'));
    const [e] = await run.waitForEvents(1, 10_000);
    assert.equal(e!.title, 'after STARTTLS');
  } finally {
    await run.stop();
  }
});

test('a certificate the monitor cannot trust is refused before logging in, and health says "certificate not trusted"', async () => {
  const run = await runMonitor(mail, imaps('wendy', { ca: pki.otherCaFile }), { secrets: { password: 'wendypw' } });
  try {
    const h = await run.waitForHealth((x) => x.status === 'failing', 15_000, 'refused');
    assert.match(h.message ?? '', /^certificate not trusted: 127\.0\.0\.1:\d+ presented a certificate, but it is not signed by the CA in .*other-ca\.crt$/);
    // It will not fix itself in a second: no fast retry loop against the server.
    const retryIn = Date.parse(h.nextRetry!) - Date.now();
    assert.ok(retryIn > 60_000, `retries after minutes, not ${retryIn} ms`);
    assert.ok(!dovecot.log.some((l) => l.includes('user=<wendy>')), 'the password was never sent');
    assert.ok(!run.logLines.some((l) => l.includes('wendypw')));
  } finally {
    await run.stop();
  }

  // Without a CA file the system's CAs apply, and they do not know this private CA: same refusal, with a hint.
  await assert.rejects(dryRunMonitor(mail, imaps('wendy', { ca: undefined }), { password: 'wendypw' }), /certificate not trusted: .*not signed by a CA this system trusts \(for a private CA, set "CA file"\)/);
  // STARTTLS checks the certificate just the same.
  await assert.rejects(dryRunMonitor(mail, starttls('wendy', { ca: pki.otherCaFile }), { password: 'wendypw' }), /certificate not trusted/);
  // A CA file that is not there, or not a certificate, is named as the problem.
  await assert.rejects(dryRunMonitor(mail, imaps('wendy', { ca: path.join(pki.dir, 'missing.crt') }), { password: 'wendypw' }), /cannot read the CA file .*missing\.crt: ENOENT/);
  await assert.rejects(dryRunMonitor(mail, imaps('wendy', { ca: pki.keyFile }), { password: 'wendypw' }), /holds no PEM certificate/);
  // With the right CA the same account works (so the refusals above were about trust, nothing else).
  const ok = await dryRunMonitor(mail, imaps('wendy'), { password: 'wendypw' });
  assert.equal(ok[0]!.type, 'mail.folder');
});

test('email action over STARTTLS and over SMTPS, certificates checked; a wrong CA or host name is refused before sending', async () => {
  const base = { username: 'tina@example.org', smtpHost: '127.0.0.1', from: 'Panoptes <tina@example.org>', ca: pki.caFile };
  const viaStarttls = await sendMail({ ...base, smtpPort: starttlsSink.port, smtpSecurity: 'starttls' }, {}, { to: 'bob@example.org', subject: 'Sent with STARTTLS', body: 'encrypted after the upgrade' });
  assert.deepEqual(viaStarttls.accepted, ['bob@example.org']);
  const [raw1] = await starttlsSink.waitForMessages(1);
  assert.match(raw1!, /^Subject: Sent with STARTTLS/m);

  const viaSmtps = await sendMail({ ...base, smtpPort: smtpsSink.port, smtpSecurity: 'tls' }, {}, { to: 'bob@example.org', subject: 'Sent with SMTPS', body: 'encrypted from the first byte' });
  assert.deepEqual(viaSmtps.accepted, ['bob@example.org']);
  const [raw2] = await smtpsSink.waitForMessages(1);
  assert.match(raw2!, /^Subject: Sent with SMTPS/m);

  await assert.rejects(sendMail({ ...base, ca: pki.otherCaFile, smtpPort: starttlsSink.port, smtpSecurity: 'starttls' }, {}, { to: 'x@example.org', subject: 'no', body: 'no' }), /certificate not trusted: SMTP server 127\.0\.0\.1:\d+ presented a certificate, but it is not signed by the CA in/);
  await assert.rejects(sendMail({ ...base, ca: undefined, smtpPort: smtpsSink.port, smtpSecurity: 'tls' }, {}, { to: 'x@example.org', subject: 'no', body: 'no' }), /certificate not trusted/);
  await assert.rejects(sendMail({ ...base, smtpPort: misnamedSink.port, smtpSecurity: 'tls' }, {}, { to: 'x@example.org', subject: 'no', body: 'no' }), /certificate not trusted: SMTP server 127\.0\.0\.1:\d+ presented a certificate for another host name$/);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(starttlsSink.messages().length, 1, 'nothing was sent to a server that was not trusted');
  assert.equal(smtpsSink.messages().length, 1);
  assert.equal(misnamedSink.messages().length, 0);
});
