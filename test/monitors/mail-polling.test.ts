// The mail monitor against a real Dovecot that does not offer IDLE (it is left out of `imap_capability`), as some
// servers do: the monitor has to notice, say that it polls, and still deliver new mail — by its own poll timer,
// since nothing else on the connection asks the server for news within the test's time (keep-alive is set to
// minutes, and imapflow's own fallback NOOP comes right after connecting, then every 2 minutes).
//
// This file waits one poll interval (the shortest the monitor allows, 30 s): the only way to see a poll happen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mail from '../../monitors/mail/index.js';
import { dryRunMonitor } from '../../core/monitor-host.js';
import { startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { runMonitor } from '../helpers/monitor-harness.js';

let dovecot: DovecotServer;
before(async () => {
  dovecot = await startDovecot({ pat: 'patpw' }, { idle: false });
});
after(async () => {
  await dovecot?.close();
});

const config = (extra: Record<string, unknown> = {}) => ({ host: '127.0.0.1', port: dovecot.port, security: 'plain', username: 'pat', ...extra });
const message = (subject: string) => [`From: sender@example.org`, `To: pat@example.org`, `Subject: ${subject}`, `Message-ID: <${subject.replace(/\W/g, '')}@example.org>`, ``, `text of ${subject}`, ``].join('\r\n');

test('a server without IDLE: the monitor says it polls, and mail arrives with the next poll, each message once', async () => {
  dovecot.deliver('pat', message('already there'));
  const preview = await dryRunMonitor(mail, config(), { password: 'patpw' });
  assert.equal(preview[0]!.fields.idle, false, 'the server really does not offer IDLE');
  assert.match(preview[0]!.body, /arrives by polling/);

  const run = await runMonitor(mail, config({ pollInterval: '30s', keepalive: '10m' }), { secrets: { password: 'patpw' } });
  try {
    const h = await run.waitForHealth((x) => x.status === 'ok', 10_000, 'connected');
    assert.match(h.message ?? '', /^INBOX: polling every 30 s/);
    // Right after connecting, imapflow sends one NOOP of its own (its fallback for IDLE, then every 2 minutes);
    // mail delivered after that can only be found by the monitor's poll.
    await new Promise((r) => setTimeout(r, 1_000));
    const delivered = Date.now();
    dovecot.deliver('pat', message('polled one'));
    dovecot.deliver('pat', message('polled two'));
    await run.waitForEvents(2, 45_000);
    console.log(`  delivered → mail.received by polling (interval 30 s): ${Date.now() - delivered} ms`);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(run.events.map((e) => e.title), ['polled one', 'polled two'], 'the baseline is not announced; each new message once');
    assert.equal(run.health().status, 'ok');
  } finally {
    await run.stop();
  }
});
