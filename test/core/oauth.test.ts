// The OAuth client against a local authorization server written to the RFCs: browser sign-in with PKCE through
// a loopback redirect, the device flow, refresh before expiry, a revoked grant, and the bad inputs a user meets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { beginSignIn, TokenSource, clockSkewHint, OAuthError, ProviderSettingsError, type OAuthGrant, type OAuthClientSettings, resetRefreshPauses } from '../../core/oauth/index.js';
import { startOAuthServer, visitAsBrowser, type OAuthTestServer } from '../helpers/oauth-server.js';
import { startTestServer } from '../helpers/http-server.js';

const MAIL = 'https://mail.example.org/imap';
let auth: OAuthTestServer;
before(async () => {
  auth = await startOAuthServer();
});
after(() => auth?.close());

const settings = (extra: Partial<OAuthClientSettings> = {}): OAuthClientSettings => ({ provider: 'generic', issuer: auth.issuer, clientId: auth.clientId, scopes: [MAIL], ...extra });

test('browser sign-in: PKCE, state checked, the loopback listener gets the code and the grant names the account', async () => {
  const signIn = await beginSignIn('browser', settings());
  const url = new URL(signIn.prompt.authorizationUrl!);
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(!url.toString().includes('code_verifier'), 'the verifier never travels through the browser');
  const redirect = new URL(url.searchParams.get('redirect_uri')!);
  assert.equal(redirect.hostname, '127.0.0.1');
  // A forged redirect without our state (another page poking the port) is refused, and the sign-in keeps waiting.
  const forged = await fetch(`${redirect.origin}/?code=stolen&state=guess`);
  assert.equal(forged.status, 400);
  const page = await visitAsBrowser(signIn.prompt.authorizationUrl!);
  assert.match(page.text, /signed in as alice@example.org/i);
  const grant = await signIn.done;
  assert.equal(grant.account, 'alice@example.org');
  assert.ok(grant.refreshToken);
  assert.ok(auth.isActive(grant.accessToken));
  assert.ok(grant.scope.includes(MAIL));
  // The listener is gone once the sign-in is done (after the answer page went out).
  await new Promise((r) => setTimeout(r, 300));
  await assert.rejects(fetch(`${redirect.origin}/`));
});

test('denied consent: a clear message, nothing stored', async () => {
  auth.consent = 'deny';
  try {
    const signIn = await beginSignIn('browser', settings());
    const page = await visitAsBrowser(signIn.prompt.authorizationUrl!);
    assert.match(page.text, /declined/);
    await assert.rejects(signIn.done, (e: OAuthError) => e.kind === 'declined' && /access was declined/.test(e.message));
  } finally {
    auth.consent = 'allow';
  }
});

test('device flow: the user enters the code elsewhere; a wrong client id is named at its field', async () => {
  const signIn = await beginSignIn('device', settings());
  assert.ok(signIn.prompt.userCode && signIn.prompt.verificationUri);
  setTimeout(() => auth.approveDevice(signIn.prompt.userCode!), 1500);
  const grant = await signIn.done;
  assert.equal(grant.account, 'alice@example.org');
  assert.ok(auth.counts.device_code >= 2, 'polled while the user was still typing');

  const denied = await beginSignIn('device', settings());
  auth.denyDevice(denied.prompt.userCode!);
  await assert.rejects(denied.done, (e: OAuthError) => e.kind === 'declined');

  await assert.rejects(beginSignIn('device', settings({ clientId: 'not-registered' })), (e: OAuthError) => e.kind === 'client' && e.field === 'clientId' && /client id/.test(e.message));
  await assert.rejects(beginSignIn('device', settings({ clientId: '  ' })), (e: ProviderSettingsError) => e.field === 'clientId');
});

test('a grant without the mail permission is refused at sign-in, saying which permission is missing', async () => {
  const narrow = await startOAuthServer({ grantScopes: (asked) => asked.filter((s) => s !== MAIL) });
  try {
    const signIn = await beginSignIn('browser', { provider: 'generic', issuer: narrow.issuer, clientId: narrow.clientId, scopes: [MAIL] });
    await visitAsBrowser(signIn.prompt.authorizationUrl!);
    await assert.rejects(signIn.done, (e: OAuthError) => e.kind === 'scope' && e.message.includes(MAIL));
  } finally {
    await narrow.close();
  }
});

test('a generic provider that is not one: the issuer field says why', async () => {
  const nothing = await startTestServer();
  try {
    await assert.rejects(beginSignIn('browser', settings({ issuer: nothing.origin })), (e: ProviderSettingsError) => e.field === 'issuer' && /no OAuth discovery document/.test(e.message));
    await assert.rejects(beginSignIn('browser', settings({ issuer: 'http://auth.example.org' })), (e: ProviderSettingsError) => e.field === 'issuer' && /https/.test(e.message));
  } finally {
    await nothing.close();
  }
});

async function signedIn(server: OAuthTestServer): Promise<OAuthGrant> {
  const signIn = await beginSignIn('browser', { provider: 'generic', issuer: server.issuer, clientId: server.clientId, scopes: [MAIL] });
  await visitAsBrowser(signIn.prompt.authorizationUrl!);
  return signIn.done;
}

test('tokens are refreshed before they expire, once however many ask, and a rotated refresh token is kept', async () => {
  const short = await startOAuthServer({ accessTokenSeconds: 4 });
  try {
    let stored: OAuthGrant | null = await signedIn(short);
    const first = stored;
    const source = new TokenSource({ key: 'refresh-test', load: () => stored, save: (g) => (stored = g) });
    assert.equal((await source.get()).token, first.accessToken, 'fresh enough: no refresh');
    assert.equal(short.counts.refresh_token, 0);
    await new Promise((r) => setTimeout(r, 3200)); // inside the last quarter of the 4 s life
    const tokens = await Promise.all([source.get(), source.get(), source.get()]);
    assert.equal(short.counts.refresh_token, 1, 'three callers, one refresh');
    assert.ok(tokens.every((t) => t.token === tokens[0]!.token && t.token !== first.accessToken));
    assert.ok(short.isActive(tokens[0]!.token));
    assert.notEqual(stored!.refreshToken, first.refreshToken, 'the rotated refresh token was saved');
  } finally {
    await short.close();
  }
});

test('a revoked grant: "sign in again", remembered, and the token endpoint is not asked again', async () => {
  const server = await startOAuthServer({ accessTokenSeconds: 4 });
  try {
    let stored: OAuthGrant | null = await signedIn(server);
    const source = new TokenSource({ key: 'revoked-test', load: () => stored, save: (g) => (stored = g) });
    server.revokeAll();
    await assert.rejects(source.get(true), (e: OAuthError) => e.kind === 'signin-required' && /sign in again/.test(e.message));
    for (let i = 0; i < 5; i++) await assert.rejects(source.get(true), (e: OAuthError) => e.kind === 'signin-required');
    assert.equal(server.counts.refused_refresh, 1, 'one refused refresh, no retry storm');
    assert.ok(stored!.revoked);
  } finally {
    await server.close();
  }
});

test('an unreachable token endpoint: the still-valid token is used, and the endpoint is left alone for a while', async () => {
  const server = await startOAuthServer({ accessTokenSeconds: 3600 });
  let stored: OAuthGrant | null = await signedIn(server);
  await server.close();
  resetRefreshPauses();
  const source = new TokenSource({ key: 'offline-test', load: () => stored, save: (g) => (stored = g) });
  const t = await source.get(true);
  assert.equal(t.token, stored!.accessToken, 'refresh failed, but the token has not expired yet');
  stored = { ...stored!, expiresAt: Date.now() - 1 };
  await assert.rejects(source.get(), (e: OAuthError) => e.kind === 'transient' && /could not reach/.test(e.message));
});

test('clock skew: the provider\'s clock is compared with ours and named when it is far off', async () => {
  const skewed = await startOAuthServer({ dateOffsetMs: 20 * 60_000 });
  try {
    const grant = await signedIn(skewed);
    assert.ok(Math.abs(grant.clockSkewMs! - 20 * 60_000) < 5_000);
    // Expiry is counted on our clock from expires_in, so the token is not taken for expired.
    assert.ok(grant.expiresAt > Date.now() + 3500_000);
    assert.match(clockSkewHint(grant), /clock is 20 minutes behind/);
  } finally {
    await skewed.close();
  }
});

for (const flavour of ['google', 'microsoft'] as const) {
  test(`${flavour}'s documented token answers: signed in, refreshed (${flavour === 'google' ? 'the refresh token kept, none sent back' : 'the rotated refresh token kept'}), a revoked grant in the provider's words`, async () => {
    const provider = await startOAuthServer({ flavour });
    try {
      const signIn = await beginSignIn('browser', { provider: 'generic', issuer: provider.issuer, clientId: provider.clientId, scopes: [MAIL] });
      await visitAsBrowser(signIn.prompt.authorizationUrl!);
      const grant = await signIn.done;
      let stored: OAuthGrant | null = grant;
      const source = new TokenSource({ key: `flavour-${flavour}`, load: () => stored, save: (g) => (stored = g) });
      const fresh = await source.get(true);
      assert.notEqual(fresh.token, grant.accessToken);
      assert.ok(provider.isActive(fresh.token));
      if (flavour === 'google') assert.equal(stored!.refreshToken, grant.refreshToken, 'Google sends no new refresh token: the one we have stays');
      else assert.notEqual(stored!.refreshToken, grant.refreshToken, 'the rotated refresh token replaced the spent one');
      assert.equal(stored!.account, 'alice@example.org', 'the address stays when a refresh answer has no ID token');
      // Still refreshable with what was kept.
      await source.get(true);

      provider.revokeAll();
      await assert.rejects(source.get(true), (e: OAuthError) => e.kind === 'signin-required' && /sign in again/.test(e.message) && (flavour === 'microsoft' ? /AADSTS70000/.test(e.message) : /expired or revoked/.test(e.message)));
      assert.ok(stored!.revoked, 'remembered');
    } finally {
      await provider.close();
    }
  });
}
