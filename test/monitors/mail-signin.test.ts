// Signing a mail monitor in from its form, through the protocol as the UI does it: the engine runs the flow
// (PKCE, loopback listener, token request) against a local authorization server, the grant goes to the 0600
// secret store only (never config.json, the monitor list or the log), the monitor logs in to a real Dovecot with
// it; a revoked grant shows as "sign in again" on the monitor, a new sign-in from the edit form mends it, and
// signing out forgets it. Bad settings are refused at their field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import type { MonitorInfo, SignInState } from '../../core/protocol.js';
import type { PanoptesEvent } from '../../core/event.js';
import { parseGrant } from '../../core/oauth/index.js';
import { oauthMailAccount } from '../helpers/oauth-mail.js';
import { visitAsBrowser } from '../helpers/oauth-server.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

const USER = 'alice@example.org';
const mail = oauthMailAccount(USER);

const form = (extra: Record<string, unknown> = {}) => mail.config(extra);

const message = (subject: string) => [`From: bob@example.org`, `To: ${USER}`, `Subject: ${subject}`, `Message-ID: <${Math.random().toString(36).slice(2)}@example.org>`, '', 'Hello', ''].join('\r\n');

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string; issues?: { path: string; message: string }[] }> {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string; issues?: { path: string; message: string }[] };
  }
  throw new Error('the request succeeded');
}

async function signInThroughBrowser(engine: Engine, extra: { id?: string } = {}): Promise<SignInState> {
  const start = await engine.request('signIn.start', { type: 'mail', config: form(), ...extra });
  assert.equal(start.flow, 'browser');
  const redirect = new URL(new URL(start.authorizationUrl!).searchParams.get('redirect_uri')!);
  assert.equal(redirect.hostname, '127.0.0.1', 'RFC 8252: the loopback IP, a port of its own');
  assert.notEqual(Number(redirect.port), 0);
  await visitAsBrowser(start.authorizationUrl!);
  return waitFor(async () => {
    const s = await engine.request('signIn.status', { signInId: start.signInId });
    return s.status === 'pending' ? null : s;
  }, 'the sign-in to finish');
}

const monitorOf = async (engine: Engine, id: string) => (await engine.request('monitors.list', {})).find((m) => m.id === id)!;
const mailEvents = async (engine: Engine) => ((await engine.request('events.list', { limit: 50 })).events as PanoptesEvent[]).filter((e) => e.source === 'mail:work');

test('sign in from the add form, add the monitor with it: the grant is in the 0600 secret store only, and mail arrives', async (t) => {
  const dir = tempDir(t);
  const engine = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false });
  t.after(() => engine.close());

  const types = await engine.request('monitors.types', {});
  assert.deepEqual(types.find((x) => x.type === 'mail')!.oauth, { grantField: 'oauthGrant', shownWhen: { field: 'auth', equals: 'oauth2' }, providerField: 'oauthProvider', providerNames: { google: 'Google', microsoft: 'Microsoft', generic: 'your provider' }, fields: ['oauthProvider', 'oauthClientId', 'oauthClientSecret', 'oauthTenant', 'oauthIssuer', 'oauthScopes'] });

  const done = await signInThroughBrowser(engine);
  assert.equal(done.status, 'done', done.message ?? '');
  assert.equal(done.account, USER);
  assert.equal(done.monitorId, null, 'nothing stored before the monitor is added');

  // A dry run of the unsaved form uses the finished sign-in.
  const dry = await engine.request('monitors.test', { type: 'mail', config: form(), signInId: done.signInId });
  assert.equal(dry.events[0]!.type, 'mail.folder');

  // A grant typed into the form is not taken: only the engine's own sign-in sets it.
  const added: MonitorInfo = await engine.request('monitors.add', { type: 'mail', name: 'Work', config: { ...form(), oauthGrant: '{"v":1,"forged":true}' }, signInId: done.signInId });
  assert.equal(added.id, 'mail:work');
  assert.deepEqual(added.signedIn, { account: USER, provider: new URL(mail.auth.issuer).host, problem: null, signOutNote: `signing out also revokes the sign-in at ${new URL(mail.auth.issuer).host}` });
  const secretsFile = path.join(dir, 'secrets.json');
  const stored = parseGrant(JSON.parse(readFileSync(secretsFile, 'utf8'))['mail:work'].oauthGrant)!;
  assert.ok(stored.refreshToken && mail.auth.isActive(stored.accessToken), 'the real grant, not the forged one');
  assert.equal(statSync(secretsFile).mode & 0o777, 0o600);
  const configText = readFileSync(path.join(dir, 'config.json'), 'utf8');
  assert.ok(!configText.includes(stored.accessToken) && !configText.includes(stored.refreshToken!) && !configText.includes('oauthGrant'), 'no token in config.json');
  const listed = JSON.stringify(await engine.request('monitors.list', {}));
  assert.ok(!listed.includes(stored.accessToken) && !listed.includes(stored.refreshToken!), 'no token goes to the UI');
  await assert.rejects(engine.request('monitors.add', { type: 'mail', name: 'Again', config: form(), signInId: done.signInId }), /sign in again|over or unknown|not finished/, 'a sign-in is handed out once');

  await waitFor(async () => (await monitorOf(engine, 'mail:work')).health.status === 'ok' || null, 'the monitor connected with the token', 20_000);
  mail.dovecot.deliver(USER, message('signed in from the form'));
  const [ev] = await waitFor(async () => ((await mailEvents(engine)).length ? await mailEvents(engine) : null), 'the mail as an event', 20_000);
  assert.equal(ev!.title, 'signed in from the form');
  assert.equal((ev!.fields as { account: string }).account, USER);

  // Revoked at the provider: the monitor says "sign in again" (and keeps no retry storm going).
  mail.auth.revokeAll();
  await mail.dovecot.stop();
  await mail.dovecot.start();
  const revoked = await waitFor(async () => {
    const m = await monitorOf(engine, 'mail:work');
    return m.health.status === 'failing' && /sign in again/.test(m.health.message ?? m.health.lastError ?? '') && m.signedIn?.problem ? m : null;
  }, '"sign in again" on the monitor', 30_000);
  assert.match(revoked.signedIn!.problem!, /sign in again/);

  // Signing in again from the edit form: the grant goes straight to the monitor, which restarts on it.
  const again = await signInThroughBrowser(engine, { id: 'mail:work' });
  assert.equal(again.status, 'done', again.message ?? '');
  assert.equal(again.monitorId, 'mail:work');
  await waitFor(async () => {
    const m = await monitorOf(engine, 'mail:work');
    return m.health.status === 'ok' && m.signedIn?.problem === null ? m : null;
  }, 'the monitor back to ok on the new sign-in', 30_000);
  mail.dovecot.deliver(USER, message('after signing in again'));
  await waitFor(async () => (await mailEvents(engine)).some((e) => e.title === 'after signing in again') || null, 'mail after the new sign-in', 20_000);

  // Sign out: the grant leaves the secret store; the monitor says it is not signed in.
  const out = await engine.request('signIn.signOut', { id: 'mail:work' });
  assert.equal(out.signedIn, null);
  assert.equal(JSON.parse(readFileSync(secretsFile, 'utf8'))['mail:work']?.oauthGrant, undefined);
  await waitFor(async () => {
    const m = await monitorOf(engine, 'mail:work');
    return m.health.status === 'failing' && /not signed in/.test(m.health.message ?? m.health.lastError ?? '') ? m : null;
  }, '"not signed in" after signing out', 20_000);
});

test('bad settings are refused at their field; denied consent ends the sign-in with a clear message', async (t) => {
  const dir = tempDir(t);
  const engine = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false, startMonitors: false });
  t.after(() => engine.close());

  const noClient = await refusal(engine.request('signIn.start', { type: 'mail', config: form({ oauthProvider: 'google', oauthClientId: '' }) }));
  assert.equal(noClient.code, 'invalid');
  assert.equal(noClient.issues?.[0]?.path, '$.oauthClientId');
  const badTenant = await refusal(engine.request('signIn.start', { type: 'mail', config: form({ oauthProvider: 'microsoft', oauthTenant: 'not a tenant!' }) }));
  assert.equal(badTenant.issues?.[0]?.path, '$.oauthTenant');
  const badIssuer = await refusal(engine.request('signIn.start', { type: 'mail', config: form({ oauthIssuer: 'http://mail.auth.example.org' }) }));
  assert.equal(badIssuer.issues?.[0]?.path, '$.oauthIssuer');
  const noOAuth = await refusal(engine.request('signIn.start', { type: 'rss', config: {} }));
  assert.equal(noOAuth.code, 'invalid');

  mail.auth.consent = 'deny';
  try {
    const denied = await signInThroughBrowser(engine);
    assert.equal(denied.status, 'failed');
    assert.match(denied.message!, /access was declined/);
    const r = await refusal(engine.request('monitors.add', { type: 'mail', name: 'Denied', config: form(), signInId: denied.signInId }));
    assert.match(r.message, /not signed in/);
  } finally {
    mail.auth.consent = 'allow';
  }

  // Cancelled (the form closed): the loopback listener closes.
  const start = await engine.request('signIn.start', { type: 'mail', config: form() });
  const listener = new URL(new URL(start.authorizationUrl!).searchParams.get('redirect_uri')!).origin;
  assert.deepEqual(await engine.request('signIn.cancel', { signInId: start.signInId }), { cancelled: true });
  const cancelled = await waitFor(async () => {
    const s = await engine.request('signIn.status', { signInId: start.signInId });
    return s.status === 'failed' ? s : null;
  }, 'the cancelled sign-in');
  assert.match(cancelled.message!, /cancelled/);
  await waitFor(async () => fetch(listener).then(() => null, () => true), 'the listener closed');
});

test('a sign-in finished in the add form survives a restart of the engine before the monitor is added, and is handed out once', async (t) => {
  const dir = tempDir(t);
  let engine = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false, startMonitors: false });
  const done = await signInThroughBrowser(engine);
  assert.equal(done.status, 'done', done.message ?? '');
  await engine.close();

  // The page kept its form and the sign-in's id across the restart (it reconnects); the grant waited in the 0600 store.
  engine = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false });
  t.after(() => engine.close());
  const added: MonitorInfo = await engine.request('monitors.add', { type: 'mail', name: 'Work', config: form(), signInId: done.signInId });
  assert.equal(added.signedIn?.account, USER);
  assert.equal(added.signedIn?.problem, null);
  await assert.rejects(engine.request('monitors.add', { type: 'mail', name: 'Again', config: form(), signInId: done.signInId }), /sign in again|over or unknown/, 'handed out once, restart or not');
  const secrets = JSON.parse(readFileSync(path.join(dir, 'secrets.json'), 'utf8')) as Record<string, Record<string, string>>;
  const waiting = Object.keys(secrets).filter((owner) => owner !== 'mail:work' && JSON.stringify(secrets[owner]).includes('refresh'));
  assert.deepEqual(waiting, [], 'once the monitor holds it, no other copy of the grant is kept');
  // And it works: the monitor logs in with it.
  await waitFor(async () => (await monitorOf(engine, 'mail:work')).health.status === 'ok' || null, 'the monitor to log in', 30_000);
});
