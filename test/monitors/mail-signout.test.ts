// What happens to a mail monitor's sign-in after it was made: signing out revokes it at the provider (RFC 7009, where
// the provider has a revocation endpoint) as well as forgetting it here; and changing who the monitor signs in with
// (the provider, the client id) without signing in again must not keep using the grant made for the old settings.
// Against a local authorization server written to the RFCs and a real Dovecot that introspects its tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import type { SignInState } from '../../core/protocol.js';
import { parseGrant } from '../../core/oauth/index.js';
import { oauthMailAccount } from '../helpers/oauth-mail.js';
import { visitAsBrowser } from '../helpers/oauth-server.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

const USER = 'dave@example.org';
const mail = oauthMailAccount(USER);

const form = (extra: Record<string, unknown> = {}) => mail.config(extra);

async function signedInMonitor(engine: Engine): Promise<void> {
  const start = await engine.request('signIn.start', { type: 'mail', config: form() });
  await visitAsBrowser(start.authorizationUrl!);
  const done: SignInState = await waitFor(async () => {
    const s = await engine.request('signIn.status', { signInId: start.signInId });
    return s.status === 'pending' ? null : s;
  }, 'the sign-in to finish');
  assert.equal(done.status, 'done', done.message ?? '');
  await engine.request('monitors.add', { type: 'mail', name: 'Work', config: form(), signInId: done.signInId });
  await waitFor(async () => (await monitorOf(engine)).health.status === 'ok' || null, 'the monitor connected', 30_000);
}

const monitorOf = async (engine: Engine) => (await engine.request('monitors.list', {})).find((m) => m.id === 'mail:work')!;
const storedGrant = (dir: string) => parseGrant(JSON.parse(readFileSync(path.join(dir, 'secrets.json'), 'utf8'))['mail:work']?.oauthGrant);

test('signing out revokes the sign-in at the provider (RFC 7009) and forgets it here', async (t) => {
  const dir = tempDir(t);
  const engine = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false });
  t.after(() => engine.close());
  await signedInMonitor(engine);
  const grant = storedGrant(dir)!;
  assert.ok(grant.refreshToken);

  const before = mail.auth.counts.revoke;
  // What the form shows after signing out: whether the provider revoked it too.
  const out: { signedIn?: unknown; signedOut?: { revoked: boolean; message: string } } = await engine.request('signIn.signOut', { id: 'mail:work' });
  assert.equal(out.signedIn, null);
  assert.equal(mail.auth.counts.revoke, before + 1, 'one revocation request');
  assert.deepEqual(mail.auth.revocations.at(-1), { token: grant.refreshToken, hint: 'refresh_token', clientId: mail.auth.clientId, known: true });
  assert.equal(out.signedOut?.revoked, true);
  assert.match(out.signedOut!.message, /revoked at 127\.0\.0\.1/);
  assert.equal(storedGrant(dir), null);
  assert.equal(mail.auth.isActive(grant.accessToken), false, 'the provider no longer accepts its access token either');
});

test('changing the client id or the provider without signing in again: the monitor says "sign in again" and does not use the old grant', async (t) => {
  const dir = tempDir(t);
  const engine = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false });
  t.after(() => engine.close());
  await signedInMonitor(engine);

  const introspected = mail.auth.counts.introspect;
  await engine.request('monitors.update', { id: 'mail:work', config: form({ oauthClientId: 'another-app' }) });
  const changed = await waitFor(async () => {
    const m = await monitorOf(engine);
    return m.health.status === 'failing' && /sign in again/.test(m.health.message ?? m.health.lastError ?? '') ? m : null;
  }, '"sign in again" after the client id changed', 30_000);
  assert.match(changed.health.message ?? changed.health.lastError ?? '', /client id/);
  assert.match(changed.signedIn?.problem ?? '', /sign in again.*client id/);
  assert.equal(mail.auth.counts.introspect, introspected, 'the old token was not offered to the mail server');

  // Back to the settings it signed in with: the grant fits again.
  await engine.request('monitors.update', { id: 'mail:work', config: form() });
  await waitFor(async () => {
    const m = await monitorOf(engine);
    return m.health.status === 'ok' && m.signedIn?.problem === null ? m : null;
  }, 'ok again with the original settings', 30_000);

  await engine.request('monitors.update', { id: 'mail:work', config: form({ oauthProvider: 'microsoft' }) });
  const other = await waitFor(async () => {
    const m = await monitorOf(engine);
    return m.health.status === 'failing' && /sign in again/.test(m.health.message ?? m.health.lastError ?? '') ? m : null;
  }, '"sign in again" after the provider changed', 30_000);
  assert.match(other.signedIn?.problem ?? '', /provider/);
});
