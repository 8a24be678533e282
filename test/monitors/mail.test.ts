// The mail monitor against a real Dovecot (IMAP IDLE) and a real SMTP sink, both started here on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import mail from '../../monitors/mail/index.js';
import { sendMail } from '../../monitors/mail/send.js';
import { dryRunMonitor } from '../../core/monitor-host.js';
import { startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { runMonitor } from '../helpers/monitor-harness.js';

const PASSWORD = 'correct horse 42';
let dovecot: DovecotServer;
let sink: SmtpSink;

before(async () => {
  // One at a time, so that if the second fails, after() still stops the first.
  dovecot = await startDovecot({ alice: PASSWORD, bob: 'bobpw', carol: 'carolpw', dave: 'davepw', erin: 'erinpw' });
  sink = await startSmtpSink();
});
after(async () => {
  await Promise.all([dovecot?.close(), sink?.close()]);
});

const configFor = (user: string, extra: Record<string, unknown> = {}) => ({
  host: '127.0.0.1',
  port: dovecot.port,
  security: 'plain',
  username: user,
  ...extra,
});

/** Messages as mail clients really write them: encoded words, legacy charsets, alternatives, attachments. */
function plainMessage(subject: string, body: string, extraHeaders = ''): string {
  return [`From: "Sender" <sender@example.org>`, `To: alice@example.org`, `Subject: ${subject}`, `Date: Sat, 21 Nov 2026 10:00:00 +0000`, `Message-ID: <${Math.random().toString(36).slice(2)}@example.org>`, `MIME-Version: 1.0`, `Content-Type: text/plain; charset=utf-8`, `Content-Transfer-Encoding: 8bit`, extraHeaders, '', body, ''].filter((l, i) => l !== '' || i > 8).join('\r\n');
}

const MESSAGES = {
  encodedUtf8: [
    `From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>`,
    `To: Alice <alice@example.org>, bob@example.org`,
    `Cc: =?ISO-8859-1?Q?Ren=E9e?= <renee@example.fr>`,
    `Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4g4piV?=`,
    `Date: Sat, 21 Nov 2026 09:30:00 +0100`,
    `Message-ID: <gruesse-1@example.de>`,
    `MIME-Version: 1.0`,
    `Content-Type: text/plain; charset=utf-8`,
    `Content-Transfer-Encoding: 8bit`,
    ``,
    `Hallo Alice, schöne Grüße — bis bald! ☕`,
    ``,
  ].join('\r\n'),
  latin1: Buffer.concat([
    Buffer.from(
      [`From: francois@example.fr`, `To: alice@example.org`, `Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?=`, `Message-ID: <latin1@example.fr>`, `MIME-Version: 1.0`, `Content-Type: text/plain; charset=ISO-8859-1`, `Content-Transfer-Encoding: 8bit`, ``, ``].join('\r\n'),
    ),
    Buffer.from('Un café crème à la gare, s\'il vous plaît.\r\n', 'latin1'),
  ]),
  alternative: [
    `From: news@example.com`,
    `To: alice@example.org`,
    `Subject: Weekly news`,
    `Message-ID: <alt@example.com>`,
    `MIME-Version: 1.0`,
    `Content-Type: multipart/alternative; boundary="b1"`,
    ``,
    `--b1`,
    `Content-Type: text/plain; charset=utf-8`,
    `Content-Transfer-Encoding: quoted-printable`,
    ``,
    `The plain version =E2=80=93 read this.`,
    `--b1`,
    `Content-Type: text/html; charset=utf-8`,
    ``,
    `<p>The <b>HTML</b> version</p>`,
    `--b1--`,
    ``,
  ].join('\r\n'),
  htmlOnly: [
    `From: shop@example.com`,
    `To: alice@example.org`,
    `Subject: Your order`,
    `Message-ID: <html@example.com>`,
    `MIME-Version: 1.0`,
    `Content-Type: text/html; charset=utf-8`,
    ``,
    `<html><head><style>p{color:red}</style></head><body><h1>Order shipped</h1><p>Your parcel <a href="https://track.example.com/1">is on its way</a>.</p><img src="x.png"></body></html>`,
    ``,
  ].join('\r\n'),
  withAttachment: [
    `From: boss@example.com`,
    `To: alice@example.org`,
    `Subject: Report attached`,
    `Message-ID: <att@example.com>`,
    `MIME-Version: 1.0`,
    `Content-Type: multipart/mixed; boundary="mix"`,
    ``,
    `--mix`,
    `Content-Type: text/plain; charset=utf-8`,
    ``,
    `See the attached report.`,
    `--mix`,
    `Content-Type: application/pdf; name="report.pdf"`,
    `Content-Disposition: attachment; filename="report.pdf"`,
    `Content-Transfer-Encoding: base64`,
    ``,
    Buffer.from('%PDF-1.4 not really').toString('base64'),
    `--mix--`,
    ``,
  ].join('\r\n'),
  long: plainMessage('Long one', 'word '.repeat(2000)),
};

async function imapClient(user: string, pass: string): Promise<ImapFlow> {
  const c = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, doSTARTTLS: false, auth: { user, pass }, logger: false });
  c.on('error', () => {});
  await c.connect();
  return c;
}

test('first start baselines; new mail is pushed (IDLE) and becomes one event each, with decoded fields', async () => {
  dovecot.deliver('alice', plainMessage('Old news', 'already here before Panoptes'));
  const run = await runMonitor(mail, configFor('alice'), { secrets: { password: PASSWORD } });
  const arrivals: number[] = [];
  const run2 = run; // keep one name for the closures below
  try {
    await run.waitForHealth((h) => h.status === 'ok', 10_000, 'connected');
    assert.match(run.health().message ?? '', /IDLE/);
    assert.equal(run.events.length, 0, 'what was there before the first start is not announced');

    const appender = await imapClient('alice', PASSWORD);
    // Latency: from the moment the APPEND is sent until the event is emitted.
    const started = Date.now();
    await appender.append('INBOX', MESSAGES.encodedUtf8);
    const [first] = await run2.waitForEvents(1, 10_000);
    const latency = Date.now() - started;
    arrivals.push(latency);
    console.log(`  IMAP APPEND → mail.received event: ${latency} ms`);
    // Polling (the fallback) would take minutes; anything this quick came by IDLE push. The 1 s target is checked
    // and printed here; the generous bound keeps a loaded CI machine from failing the test.
    assert.ok(latency < 5_000, `event took ${latency} ms`);

    assert.equal(first!.type, 'mail.received');
    assert.equal(first!.title, 'Grüße aus Köln ☕');
    const f = first!.fields!;
    assert.deepEqual(f.from, { name: 'Jürgen Müller', address: 'juergen@example.de' });
    assert.deepEqual(f.to, [{ name: 'Alice', address: 'alice@example.org' }, { name: '', address: 'bob@example.org' }]);
    assert.deepEqual(f.cc, [{ name: 'Renée', address: 'renee@example.fr' }]);
    assert.equal(f.subject, 'Grüße aus Köln ☕');
    assert.equal(f.date, '2026-11-21T08:30:00.000Z');
    assert.equal(f.messageId, '<gruesse-1@example.de>');
    assert.equal(f.folder, 'INBOX');
    assert.equal(f.account, 'alice@127.0.0.1');
    assert.equal(f.hasAttachments, false);
    assert.equal(f.snippet, 'Hallo Alice, schöne Grüße — bis bald! ☕');
    assert.ok(typeof f.size === 'number' && f.size > 100);
    assert.ok(Array.isArray(f.flags) && !(f.flags as string[]).includes('\\Seen'), 'new mail is unread');

    for (const raw of [MESSAGES.latin1, MESSAGES.alternative, MESSAGES.htmlOnly, MESSAGES.withAttachment, MESSAGES.long]) await appender.append('INBOX', raw);
    const all = await run.waitForEvents(6, 10_000);
    const bySubject = new Map(all.map((e) => [e.fields!.subject as string, e.fields!]));
    assert.equal(bySubject.get('Café crème')!.snippet, "Un café crème à la gare, s'il vous plaît.");
    assert.equal(bySubject.get('Weekly news')!.snippet, 'The plain version – read this.', 'the plain alternative is preferred');
    const html = bySubject.get('Your order')!.snippet as string;
    assert.match(html, /ORDER SHIPPED|Order shipped/i);
    assert.match(html, /Your parcel is on its way\./);
    assert.doesNotMatch(html, /<|color:red|track\.example/);
    assert.equal(bySubject.get('Report attached')!.hasAttachments, true);
    assert.equal(bySubject.get('Report attached')!.snippet, 'See the attached report.');
    assert.equal([...(bySubject.get('Long one')!.snippet as string)].length, 500);

    // Read-only: watching must not mark anything as read.
    await appender.mailboxOpen('INBOX');
    for await (const m of appender.fetch('1:*', { flags: true })) assert.ok(!m.flags?.has('\\Seen'), 'a watched message got \\Seen');
    await appender.logout();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(run.events.length, 6, 'each message exactly once');
    assert.ok(!run.logLines.some((l) => l.includes(PASSWORD)), 'the password never reaches the log');
  } finally {
    await run.stop();
  }
});

test('server down for a while, mail delivered meanwhile: after it is back, each message arrives exactly once', async () => {
  const run = await runMonitor(mail, configFor('bob'), { secrets: { password: 'bobpw' } });
  try {
    await run.waitForHealth((h) => h.status === 'ok', 10_000, 'connected');
    dovecot.deliver('bob', plainMessage('before the outage', 'one'));
    await run.waitForEvents(1);

    await dovecot.stop();
    const failing = await run.waitForHealth((h) => h.status === 'failing', 10_000, 'failing after the server went away');
    assert.ok(failing.nextRetry, 'health says when it retries');
    dovecot.deliver('bob', plainMessage('during the outage 1', 'two'));
    dovecot.deliver('bob', plainMessage('during the outage 2', 'three'));
    await new Promise((r) => setTimeout(r, 1_500));
    await dovecot.start();

    await run.waitForHealth((h) => h.status === 'ok', 30_000, 'reconnected');
    const events = await run.waitForEvents(3, 10_000);
    dovecot.deliver('bob', plainMessage('after the outage', 'four'));
    await run.waitForEvents(4, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(
      run.events.map((e) => e.title),
      ['before the outage', 'during the outage 1', 'during the outage 2', 'after the outage'],
    );
    assert.equal(events.length >= 3, true);
  } finally {
    await run.stop();
  }
});

test('Panoptes restarted: mail that came while it was off is emitted once, nothing seen before is repeated', async () => {
  const run = await runMonitor(mail, configFor('carol'), { secrets: { password: 'carolpw' } });
  try {
    await run.waitForHealth((h) => h.status === 'ok', 10_000, 'connected');
    dovecot.deliver('carol', plainMessage('seen before restart', 'a'));
    await run.waitForEvents(1);

    await run.restart(); // host and store stopped and reopened; the monitor starts from its persisted cursor
    dovecot.deliver('carol', plainMessage('arrived around the restart', 'b'));
    await run.waitForHealth((h) => h.status === 'ok', 10_000, 'connected again');
    await run.waitForEvents(2);
    await run.restart();
    await run.waitForHealth((h) => h.status === 'ok', 10_000, 'connected a third time');
    dovecot.deliver('carol', plainMessage('after the second restart', 'c'));
    await run.waitForEvents(3);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(run.events.map((e) => e.title), ['seen before restart', 'arrived around the restart', 'after the second restart']);

    // The server renumbers the folder (UIDVALIDITY changes, e.g. a restored backup): re-baseline, no flood.
    await run.restart();
    await run.waitForHealth((h) => h.status === 'ok', 10_000, 'connected');
    await dovecot.stop();
    const md = dovecot.maildir('carol');
    for (const f of readdirSync(md)) if (f.startsWith('dovecot')) rmSync(path.join(md, f), { recursive: true, force: true });
    await new Promise((r) => setTimeout(r, 1_100)); // UIDVALIDITY is a timestamp: make sure it differs
    await dovecot.start();
    await run.waitForHealth((h) => h.status === 'ok', 30_000, 'reconnected after renumbering');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(run.events.length, 3, 'a renumbered folder is not announced again');
    dovecot.deliver('carol', plainMessage('after renumbering', 'd'));
    await run.waitForEvents(4);
    assert.equal(run.events.at(-1)!.title, 'after renumbering');
  } finally {
    await run.stop();
  }
});

test('Panoptes killed right after storing a message: after the restart each message is in the history exactly once', async () => {
  const run = await runMonitor(mail, configFor('erin'), { secrets: { password: 'erinpw' }, crashAfterEvents: 2 });
  try {
    await run.waitForHealth((h) => h.status === 'ok', 10_000, 'connected');
    for (const n of [1, 2, 3]) dovecot.deliver('erin', plainMessage(`crash test ${n}`, String(n)));
    // Message 2 is committed, then the process "dies" before the monitor hears back.
    await run.crashed;
    await run.restart();
    await run.waitForEvents(3, 15_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(run.stored().map((e) => e.title), ['crash test 1', 'crash test 2', 'crash test 3']);
  } finally {
    await run.stop();
  }
});

test('a server that stops answering is noticed by the watchdog and the monitor recovers when it answers again', async () => {
  const run = await runMonitor(mail, configFor('dave', { keepalive: '1s' }), { secrets: { password: 'davepw' } });
  try {
    await run.waitForHealth((h) => h.status === 'ok', 10_000, 'connected');
    dovecot.freeze(); // sockets stay open, nothing answers: a half-dead connection
    let frozen = true;
    try {
      const h = await run.waitForHealth((x) => x.status === 'failing', 10_000, 'the watchdog to notice');
      assert.match(h.message ?? '', /did not answer a NOOP/);
    } finally {
      dovecot.thaw();
      frozen = false;
    }
    assert.equal(frozen, false);
    dovecot.deliver('dave', plainMessage('after the freeze', 'x'));
    await run.waitForHealth((h) => h.status === 'ok', 30_000, 'recovered');
    await run.waitForEvents(1, 10_000);
    assert.equal(run.events[0]!.title, 'after the freeze');
  } finally {
    await run.stop();
  }
});

test('wrong password: health says "authentication failed" and the server is not hammered', async () => {
  const before = dovecot.log.filter((l) => /auth failed/i.test(l)).length;
  const run = await runMonitor(mail, configFor('alice'), { secrets: { password: 'wrong-password' } });
  try {
    const h = await run.waitForHealth((x) => x.status === 'failing', 10_000, 'failing');
    assert.match(h.message ?? '', /authentication failed/i);
    assert.doesNotMatch(h.message ?? '', /wrong-password/);
    const retryIn = Date.parse(h.nextRetry!) - Date.now();
    assert.ok(retryIn > 60_000, `retries only after minutes, not ${retryIn} ms`);
    await new Promise((r) => setTimeout(r, 2_000));
    const attempts = dovecot.log.filter((l) => /auth failed/i.test(l)).length - before;
    assert.equal(attempts, 1, `one login attempt, not ${attempts}`);
    assert.ok(!run.logLines.some((l) => l.includes('wrong-password')));
  } finally {
    await run.stop();
  }
});

test('[UNAVAILABLE] Temporary authentication failure is transient: retried within seconds, not treated as a wrong password', async () => {
  dovecot.breakAuth();
  let broken = true;
  const run = await runMonitor(mail, configFor('erin'), { secrets: { password: 'erinpw' } });
  try {
    const h = await run.waitForHealth((x) => x.status === 'failing', 15_000, 'failing');
    assert.doesNotMatch(h.message ?? '', /authentication failed for/i, 'not called a wrong password');
    assert.match(h.message ?? '', /temporar/i);
    const retryIn = Date.parse(h.nextRetry!) - Date.now();
    assert.ok(retryIn < 60_000, `retried within seconds like a dropped connection, not after ${retryIn} ms`);
    dovecot.restoreAuth();
    broken = false;
    await run.waitForHealth((x) => x.status === 'ok', 60_000, 'signed in once the server could check passwords again');
  } finally {
    if (broken) dovecot.restoreAuth();
    await run.stop();
  }
});

test('dry run (monitor test): folder state and the newest messages, without changing the mailbox', async () => {
  const events = await dryRunMonitor(mail, configFor('alice'), { password: PASSWORD });
  assert.equal(events[0]!.type, 'mail.folder');
  assert.equal(events[0]!.fields.folder, 'INBOX');
  assert.equal(events[0]!.fields.exists, 7);
  assert.equal(events[0]!.fields.idle, true);
  const mails = events.slice(1);
  assert.equal(mails.length, 5, 'a handful of the newest');
  assert.deepEqual(mails.map((e) => e.title), ['Café crème', 'Weekly news', 'Your order', 'Report attached', 'Long one']);
  const c = await imapClient('alice', PASSWORD);
  await c.mailboxOpen('INBOX');
  for await (const m of c.fetch('1:*', { flags: true })) assert.ok(!m.flags?.has('\\Seen'));
  await c.logout();

  await assert.rejects(dryRunMonitor(mail, configFor('alice'), { password: 'nope' }), /authentication failed/);

  // The same through the CLI a user runs: `panoptes monitor test mail --config … --secrets …`.
  const cli = spawnSync(process.execPath, [path.join(process.env.PANOPTES_ROOT ?? process.cwd(), 'bin', 'panoptes.js'), 'monitor', 'test', 'mail', '--config', JSON.stringify(configFor('alice')), '--secrets', JSON.stringify({ password: PASSWORD })], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(cli.status, 0, cli.stderr);
  const printed = cli.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; title: string });
  assert.equal(printed[0]!.type, 'mail.folder');
  assert.equal(printed.length, 6);
  assert.ok(!cli.stdout.includes(PASSWORD));
  await assert.rejects(dryRunMonitor(mail, { ...configFor('alice'), host: 'mail.example.org' }), /plain IMAP is only allowed/);
});

test('email action: sendMail delivers through the account\'s SMTP server', async () => {
  const settings = { username: 'alice@example.org', smtpHost: '127.0.0.1', smtpPort: sink.port, smtpSecurity: 'plain' as const, from: 'Panoptes <alice@example.org>' };
  const sent = await sendMail(settings, {}, { to: 'bob@example.org', subject: 'Räumung: Server down', body: 'The backup server is down since 10:02.\nÜberprüfen!' });
  assert.deepEqual(sent.accepted, ['bob@example.org']);
  const [raw] = await sink.waitForMessages(1);
  assert.match(raw!, /^To: bob@example.org/m);
  assert.match(raw!, /^From: Panoptes <alice@example.org>/m);
  assert.match(raw!, /^Subject: =\?UTF-8\?/m, 'non-ASCII subjects are encoded');
  assert.match(raw!, /backup server is down/);

  await assert.rejects(sendMail({ ...settings, smtpHost: 'smtp.example.org' }, {}, { to: 'x@example.org', subject: 's', body: 'b' }), /only allowed to 127\.0\.0\.1/);
  await assert.rejects(sendMail(settings, {}, { to: 'x@example.org', subject: 'a\r\nBcc: evil@example.org', body: 'b' }), /one line/);
  await assert.rejects(sendMail({ ...settings, smtpHost: undefined }, {}, { to: 'x@example.org', subject: 's', body: 'b' }), /no SMTP server/);
});
