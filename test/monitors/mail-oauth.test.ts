// The mail monitor signing in with OAuth 2.0 to a real Dovecot whose oauth2 passdb checks every token at a local
// authorization server (RFC 7662 introspection): sign-in by browser (code + PKCE) and by device code, a token that
// expires during the session renewed before a reconnect needs it, and a revoked grant reported as "sign in again".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mail from '../../monitors/mail/index.js';
import { oauthClientOf } from '../../monitors/mail/settings.js';
import { sendMail } from '../../monitors/mail/send.js';
import { beginSignIn, parseGrant, serializeGrant, type OAuthGrant } from '../../core/oauth/index.js';
import { dryRunMonitor } from '../../core/monitor-host.js';
import { startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { startOAuthServer, visitAsBrowser, type OAuthTestServer } from '../helpers/oauth-server.js';
import { runMonitor } from '../helpers/monitor-harness.js';
import { waitFor } from '../helpers/tmp.js';

const USER = 'alice@example.org';
const LIFETIME_S = 6;
let auth: OAuthTestServer;
let dovecot: DovecotServer;

before(async () => {
  auth = await startOAuthServer({ user: { username: USER, email: USER }, accessTokenSeconds: LIFETIME_S });
  dovecot = await startDovecot({ [USER]: 'not-used-by-oauth' }, { oauth2: { introspectionUrl: auth.server.url('/introspect') } });
});
after(async () => {
  await dovecot?.close();
  await auth?.close();
});

const config = (extra: Record<string, unknown> = {}) => ({
  host: '127.0.0.1',
  port: dovecot.port,
  security: 'plain',
  auth: 'oauth2',
  oauthProvider: 'generic',
  oauthIssuer: auth.issuer,
  oauthClientId: auth.clientId,
  ...extra,
});

const message = (subject: string) => [`From: bob@example.org`, `To: ${USER}`, `Subject: ${subject}`, `Message-ID: <${Math.random().toString(36).slice(2)}@example.org>`, '', 'Hello', ''].join('\r\n');

async function browserSignIn(): Promise<OAuthGrant> {
  const signIn = await beginSignIn('browser', oauthClientOf(config(), {}));
  await visitAsBrowser(signIn.prompt.authorizationUrl!);
  return signIn.done;
}

test('signed in through the browser, the monitor logs in with XOAUTH2, and renews an expiring token while connected', async () => {
  const grant = await browserSignIn();
  const run = await runMonitor(mail, config(), { secrets: { oauthGrant: serializeGrant(grant) }, id: 'mail:oauth-browser' });
  try {
    await run.waitForHealth((h) => h.status === 'ok', 15_000, 'connected');
    dovecot.deliver(USER, message('first over OAuth'));
    const [first] = await run.waitForEvents(1);
    assert.equal(first!.title, 'first over OAuth');
    assert.equal((first!.fields as { account: string }).account, USER, 'the account is the signed-in address');
    // Dovecot's log arrives through a pipe: wait for the line rather than expect it already read.
    await waitFor(() => dovecot.log.some((l) => /Login: user=<alice@example.org>, method=(XOAUTH2|OAUTHBEARER)/.test(l)), 'the token login in Dovecot\'s log');

    // The token lives 6 s: it is renewed in its last quarter, while the IMAP connection stays up.
    // Waiting for the renewed grant in the secret store (not just the request at the server: it is saved after the answer).
    await waitFor(() => parseGrant(run.secrets().oauthGrant)?.accessToken !== grant.accessToken, 'the renewed grant in the secret store', LIFETIME_S * 1000 + 5000);
    assert.ok(auth.counts.refresh_token >= 1, 'refreshed before expiry');
    const saved = parseGrant(run.secrets().oauthGrant)!;
    assert.ok(!auth.isActive(grant.accessToken) || Date.now() < grant.expiresAt);

    // The first token has expired by now; a reconnect logs in with the renewed one.
    await new Promise((r) => setTimeout(r, Math.max(0, grant.expiresAt - Date.now() + 200)));
    assert.equal(auth.isActive(grant.accessToken), false);
    await dovecot.stop();
    await dovecot.start();
    dovecot.deliver(USER, message('after the reconnect'));
    const events = await run.waitForEvents(2, 20_000);
    assert.equal(events[1]!.title, 'after the reconnect');
    assert.ok(!run.logLines.some((l) => l.includes(saved.accessToken) || l.includes(saved.refreshToken!)), 'tokens never reach the log');
  } finally {
    await run.stop();
  }
});

test('the device flow signs in too; a dry run shows the folder with the new grant', async () => {
  const signIn = await beginSignIn('device', oauthClientOf(config(), {}));
  auth.approveDevice(signIn.prompt.userCode!);
  const grant = await signIn.done;
  const events = await dryRunMonitor(mail, { ...config(), oauthGrant: serializeGrant(grant) }, { oauthGrant: serializeGrant(grant) });
  assert.equal(events[0]!.type, 'mail.folder');
  assert.equal((events[0]!.fields as { account: string }).account, USER);
});

test('a revoked grant: health says "sign in again", one event says so, and the provider is not asked over and over', async () => {
  const grant = await browserSignIn();
  const run = await runMonitor(mail, config(), { secrets: { oauthGrant: serializeGrant(grant) }, id: 'mail:oauth-revoked' });
  try {
    await run.waitForHealth((h) => h.status === 'ok', 15_000, 'connected');
    const refusedBefore = auth.counts.refused_refresh;
    auth.revokeAll(); // the user removed Panoptes' access in their account settings
    await dovecot.stop();
    await dovecot.start();
    const h = await run.waitForHealth((x) => x.status === 'failing' && /sign in again/.test(x.message ?? ''), 20_000, '"sign in again"');
    assert.match(h.message!, /no longer accepts/);
    const [ev] = await run.waitForEvents(1);
    assert.equal(ev!.type, 'mail.signin_required');
    assert.equal((ev!.fields as { account: string }).account, USER);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(auth.counts.refused_refresh - refusedBefore, 1, 'one refused refresh, no retry storm');
    assert.ok(parseGrant(run.secrets().oauthGrant)!.revoked, 'remembered in the secret store across restarts');
    await run.restart();
    await run.waitForHealth((x) => x.status === 'failing' && /sign in again/.test(x.message ?? ''), 10_000, '"sign in again" after a restart');
    assert.equal(auth.counts.refused_refresh - refusedBefore, 1, 'not asked again after a restart');
    assert.equal(run.events.filter((e) => e.type === 'mail.signin_required').length, 1, 'one event per revoked sign-in');
  } finally {
    await run.stop();
  }
});

test('not signed in yet, or a wrong client id: a clear message, no connection attempts in a loop', async () => {
  await assert.rejects(dryRunMonitor(mail, config(), {}), /not signed in yet/);
  await assert.rejects(beginSignIn('device', oauthClientOf(config({ oauthClientId: 'typo' }), {})), (e: Error & { field?: string }) => e.field === 'clientId');
  await assert.rejects(dryRunMonitor(mail, config({ oauthClientId: '' }), {}), /client id/);
});

test('the email action sends over SMTP with the account\'s OAuth token (XOAUTH2), renewing it first when due', async () => {
  const sink = await startSmtpSink({ xoauth2: { introspectionUrl: auth.server.url('/introspect') } });
  try {
    const grant = await browserSignIn();
    let stored = serializeGrant({ ...grant, obtainedAt: Date.now() - 3_600_000, expiresAt: Date.now() + 60_000 }); // in its last minute: renewed before sending
    const refreshes = auth.counts.refresh_token;
    const smtp = { smtpHost: sink.host, smtpPort: sink.port, smtpSecurity: 'plain' as const, auth: 'oauth2' as const, username: undefined, smtpUsername: undefined, from: USER };
    const sent = await sendMail(smtp, { oauthGrant: stored }, { to: 'bob@example.org', subject: 'sent with a token', body: 'hi' }, { key: 'smtp-test', save: (json) => (stored = json) });
    assert.deepEqual(sent.accepted, ['bob@example.org']);
    const [raw] = await sink.waitForMessages(1);
    assert.match(raw!, /Subject: sent with a token/);
    assert.equal(auth.counts.refresh_token - refreshes, 1, 'renewed once before sending');
    assert.notEqual(parseGrant(stored)!.accessToken, grant.accessToken, 'the renewed grant was handed back to be stored');
    assert.ok(sink.output().some((l) => l.includes(`XOAUTH2 ok ${USER}`)));

    auth.revokeAll();
    await assert.rejects(sendMail(smtp, { oauthGrant: stored }, { to: 'bob@example.org', subject: 'x', body: 'y' }, { key: 'smtp-test-2', save: (json) => (stored = json) }), (e: Error) => (/authentication failed|sign in again/.test(e.message) ? true : assert.fail(e.message + ' / ' + sink.output().join(' | '))));
  } finally {
    await sink.close();
  }
});
