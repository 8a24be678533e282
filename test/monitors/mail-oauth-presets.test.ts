// The mail monitor signed in through the Google and Microsoft presets (their own paths and answer shapes, served by a
// local server) and reading a real Dovecot with the tokens (XOAUTH2, oauth2 passdb introspecting at that server):
// Google through the browser, its refresh answers carrying no new refresh token; Microsoft by device code, and an
// admin withdrawing consent later — the monitor's health and one event say the admin must approve Panoptes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import type { PanoptesEvent } from '../../core/event.js';
import { parseGrant, presetOriginsForTests } from '../../core/oauth/index.js';
import { startDovecot } from '../helpers/dovecot.js';
import { startOAuthServer, visitAsBrowser } from '../helpers/oauth-server.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

const USER = 'erin@example.org';
const message = (subject: string) => [`From: bob@example.org`, `To: ${USER}`, `Subject: ${subject}`, `Message-ID: <${Math.random().toString(36).slice(2)}@example.org>`, '', 'Hello', ''].join('\r\n');
let undo: (() => void) | undefined;
after(() => undo?.());

const monitorOf = async (engine: Engine, id: string) => (await engine.request('monitors.list', {})).find((m) => m.id === id)!;
const events = async (engine: Engine) => (await engine.request('events.list', { limit: 50 })).events as PanoptesEvent[];

test('Google preset: browser sign-in at Google\'s paths, mail from Dovecot, a renewal without a new refresh token keeps working', { timeout: 180_000 }, async (t) => {
  const google = await startOAuthServer({ flavour: 'google', clientSecret: 'GOCSPX-desktop', user: { username: USER, email: USER }, accessTokenSeconds: 8 });
  t.after(() => google.close());
  const dovecot = await startDovecot({ [USER]: 'unused' }, { oauth2: { introspectionUrl: google.server.url('/introspect') } });
  t.after(() => dovecot.close());
  undo = presetOriginsForTests({ google: google.server.origin });
  const dir = tempDir(t);
  const engine = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false });
  t.after(() => engine.close());
  const form = { host: '127.0.0.1', port: dovecot.port, security: 'plain', auth: 'oauth2', oauthProvider: 'google', oauthClientId: google.clientId, oauthClientSecret: 'GOCSPX-desktop', keepalive: '5s' };

  // Sign in with a code first: Google's device flow does not serve the mail scope, and the form says what to do.
  await assert.rejects(engine.request('signIn.start', { type: 'mail', config: form, flow: 'device' }), /use "Sign in with Google" in a browser/);

  const start = await engine.request('signIn.start', { type: 'mail', config: form });
  assert.equal(new URL(start.authorizationUrl!).origin + new URL(start.authorizationUrl!).pathname, google.server.url('/o/oauth2/v2/auth'));
  await visitAsBrowser(start.authorizationUrl!);
  const done = await waitFor(async () => {
    const s = await engine.request('signIn.status', { signInId: start.signInId });
    return s.status === 'pending' ? null : s;
  }, 'the sign-in to finish');
  assert.equal(done.status, 'done', done.message ?? '');
  await engine.request('monitors.add', { type: 'mail', name: 'Gmail', config: form, signInId: done.signInId });
  const stored = () => parseGrant(JSON.parse(readFileSync(path.join(dir, 'secrets.json'), 'utf8'))['mail:gmail']?.oauthGrant)!;
  const first = stored();
  assert.equal(first.provider, 'Google');
  assert.ok(!readFileSync(path.join(dir, 'config.json'), 'utf8').includes('GOCSPX-desktop'), 'the client secret goes to the secret store too');

  await waitFor(async () => (await monitorOf(engine, 'mail:gmail')).health.status === 'ok' || null, 'the monitor logged in', 30_000);
  dovecot.deliver(USER, message('gmail one'));
  await waitFor(async () => (await events(engine)).some((e) => e.title === 'gmail one') || null, 'the first mail', 30_000);

  // The 8-second token is renewed; Google sends no new refresh token, the one we have stays. A reconnect logs in with it.
  await waitFor(() => google.counts.refresh_token >= 1 && stored().accessToken !== first.accessToken, 'a renewal', 30_000);
  assert.equal(stored().refreshToken, first.refreshToken);
  await dovecot.stop();
  await dovecot.start();
  dovecot.deliver(USER, message('gmail two'));
  await waitFor(async () => (await events(engine)).some((e) => e.title === 'gmail two') || null, 'mail after the renewal and a reconnect', 60_000);
  assert.equal(google.counts.refused_refresh, 0);
  undo();
});

test('Microsoft preset: device-code sign-in at /{tenant}/oauth2/v2.0, mail from Dovecot; consent withdrawn → "Your organisation\'s admin must approve Panoptes", once', { timeout: 180_000 }, async (t) => {
  const microsoft = await startOAuthServer({ flavour: 'microsoft', user: { username: USER, email: USER }, accessTokenSeconds: 8, tenants: ['contoso.onmicrosoft.com'] });
  t.after(() => microsoft.close());
  const dovecot = await startDovecot({ [USER]: 'unused' }, { oauth2: { introspectionUrl: microsoft.server.url('/introspect') } });
  t.after(() => dovecot.close());
  undo = presetOriginsForTests({ microsoft: microsoft.server.origin });
  const dir = tempDir(t);
  const engine = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false });
  t.after(() => engine.close());
  const form = { host: '127.0.0.1', port: dovecot.port, security: 'plain', auth: 'oauth2', oauthProvider: 'microsoft', oauthTenant: 'contoso.onmicrosoft.com', oauthClientId: microsoft.clientId, keepalive: '5s' };

  const start = await engine.request('signIn.start', { type: 'mail', config: form, flow: 'device' });
  assert.equal(start.verificationUri, microsoft.server.url('/devicelogin'));
  await waitFor(() => microsoft.devicePolls.includes('authorization_pending') || null, 'a pending poll', 30_000);
  microsoft.approveDevice(start.userCode!);
  const done = await waitFor(async () => {
    const s = await engine.request('signIn.status', { signInId: start.signInId });
    return s.status === 'pending' ? null : s;
  }, 'the sign-in to finish', 30_000);
  assert.equal(done.status, 'done', done.message ?? '');
  const added = await engine.request('monitors.add', { type: 'mail', name: 'Work', config: form, signInId: done.signInId });
  assert.match(added.signedIn!.signOutNote, /Microsoft offers apps no way to revoke/);
  await waitFor(async () => (await monitorOf(engine, 'mail:work')).health.status === 'ok' || null, 'the monitor logged in', 30_000);
  dovecot.deliver(USER, message('m365 one'));
  await waitFor(async () => (await events(engine)).some((e) => e.title === 'm365 one') || null, 'the mail', 30_000);

  // The organisation's admin withdraws consent: the next renewal is refused with AADSTS65001 / consent_required.
  microsoft.refreshRefusal = 'consent_required';
  const failing = await waitFor(async () => {
    const m = await monitorOf(engine, 'mail:work');
    return m.health.status === 'failing' && /Your organisation's admin must approve Panoptes/.test(m.health.message ?? m.health.lastError ?? '') ? m : null;
  }, 'the monitor to say the admin must approve Panoptes', 60_000);
  assert.doesNotMatch(failing.health.message ?? failing.health.lastError ?? '', /Trace ID/);
  const notices = await waitFor(async () => {
    const n = (await events(engine)).filter((e) => e.type === 'mail.signin_required');
    return n.length ? n : null;
  }, 'the sign-in-required event', 30_000);
  assert.equal(notices.length, 1);
  assert.match(String((notices[0]!.fields as { reason: string }).reason), /admin must approve Panoptes/);
  assert.equal(microsoft.counts.refused_refresh, 1, 'the refused refresh token is not sent again');
  undo();
});
