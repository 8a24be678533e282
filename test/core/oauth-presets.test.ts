// The Google and Microsoft presets themselves (their paths, parameters and answers) against local servers that answer
// in each provider's documented shapes: Google's device flow (verification_url, 428 "authorization_pending", 403
// "slow_down" / "access_denied", its short list of device scopes, 400 invalid_token from its revoke endpoint) and
// Microsoft's identity platform v2.0 (everything 400, authorization_declined, bad_verification_code, AADSTS codes,
// suberror; consent withdrawn, MFA asked, conditional access, public client flows off). Each refusal must come out
// in words a user can act on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { beginSignIn, TokenSource, OAuthError, GOOGLE_MAIL_SCOPE, MICROSOFT_IMAP_SCOPES, presetOriginsForTests, presetOriginsFromEnv, revokeGrant, type OAuthClientSettings, type OAuthGrant } from '../../core/oauth/index.js';
import { startOAuthServer, visitAsBrowser, type OAuthTestServer, type RefreshRefusal } from '../helpers/oauth-server.js';

let google: OAuthTestServer;
let microsoft: OAuthTestServer;
let undo: () => void;
before(async () => {
  google = await startOAuthServer({ flavour: 'google', clientSecret: 'GOCSPX-not-secret', tenants: [] });
  microsoft = await startOAuthServer({ flavour: 'microsoft', tenants: ['contoso.onmicrosoft.com'] });
  undo = presetOriginsForTests({ google: google.server.origin, microsoft: microsoft.server.origin });
});
after(async () => {
  undo?.();
  await google?.close();
  await microsoft?.close();
});

const googleMail = (extra: Partial<OAuthClientSettings> = {}): OAuthClientSettings => ({ provider: 'google', clientId: google.clientId, clientSecret: 'GOCSPX-not-secret', scopes: [GOOGLE_MAIL_SCOPE], ...extra });
const microsoftMail = (extra: Partial<OAuthClientSettings> = {}): OAuthClientSettings => ({ provider: 'microsoft', clientId: microsoft.clientId, scopes: MICROSOFT_IMAP_SCOPES, ...extra });
const failure = async (p: Promise<unknown>): Promise<OAuthError> => {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof OAuthError, String(err));
    return err;
  }
  throw new Error('it succeeded');
};

test('Google preset: the browser sign-in at Google\'s paths with offline access; a refresh keeps the refresh token', async () => {
  const s = await beginSignIn('browser', googleMail());
  const url = new URL(s.prompt.authorizationUrl!);
  assert.equal(url.pathname, '/o/oauth2/v2/auth');
  assert.equal(url.searchParams.get('access_type'), 'offline');
  assert.equal(url.searchParams.get('prompt'), 'consent');
  await visitAsBrowser(url.toString());
  const grant = await s.done;
  assert.equal(grant.provider, 'Google');
  assert.equal(grant.tokenEndpoint, `${google.server.origin}/token`);
  assert.equal(grant.revocationEndpoint, `${google.server.origin}/revoke`);
  let stored: OAuthGrant | null = grant;
  const source = new TokenSource({ key: 'preset-google', load: () => stored, save: (g) => (stored = g) });
  await source.get(true);
  assert.equal(stored!.refreshToken, grant.refreshToken);

  // Revoked by the user at Google: the refresh is refused in Google's words; the Testing-status trap is named.
  google.revokeAll();
  const e = await failure(source.get(true));
  assert.equal(e.kind, 'signin-required');
  assert.match(e.message, /Token has been expired or revoked/);
  assert.match(e.message, /Testing.*7 days/, 'Google ends sign-ins of apps left in "Testing" after 7 days: say so');

  // Signing out after that: Google answers 400 invalid_token for a token it no longer honours — that is done, not a failure.
  const out = await revokeGrant(stored!);
  assert.equal(out.revoked, true, out.message);
  assert.doesNotMatch(out.message, /did not revoke/);
});

test('Google preset: the device flow cannot give mail access — Google refuses the scope, the message says to use the browser', async () => {
  const e = await failure(beginSignIn('device', googleMail()));
  assert.match(e.message, /Google's sign-in with a code does not give access to mail/);
  assert.match(e.message, /browser/);
});

test('Google preset: device polling in Google\'s shapes (428 pending, 403 slow_down, 403 access_denied, expired_token)', async () => {
  const scopes = ['https://www.googleapis.com/auth/drive.file'];
  // Pending, then told to slow down (the wait grows by 5 s, RFC 8628 §3.5), then allowed.
  google.slowDown(1);
  const s = await beginSignIn('device', googleMail({ scopes }));
  assert.equal(s.prompt.verificationUri, google.server.url('/device-google'), 'Google says verification_url');
  const code = s.prompt.userCode!;
  const poll = setInterval(() => {
    if (google.devicePolls.includes('authorization_pending')) {
      clearInterval(poll);
      google.approveDevice(code);
    }
  }, 50);
  const grant = await s.done.finally(() => clearInterval(poll));
  assert.ok(grant.refreshToken);
  assert.deepEqual(google.devicePolls.slice(0, 2), ['slow_down', 'authorization_pending']);

  const denied = await beginSignIn('device', googleMail({ scopes }));
  google.denyDevice(denied.prompt.userCode!);
  const d = await failure(denied.done);
  assert.equal(d.kind, 'declined');
  assert.match(d.message, /access was declined at Google/);

  const late = await beginSignIn('device', googleMail({ scopes }));
  google.expireDevice(late.prompt.userCode!);
  const x = await failure(late.done);
  assert.match(x.message, /expired before it was entered/);
});

test('Microsoft preset: the device flow at /{tenant}/oauth2/v2.0/devicecode, pending in AADSTS words, then signed in', async () => {
  const s = await beginSignIn('device', microsoftMail({ tenant: 'contoso.onmicrosoft.com' }));
  assert.equal(s.prompt.verificationUri, microsoft.server.url('/devicelogin'));
  const poll = setInterval(() => {
    if (microsoft.devicePolls.includes('authorization_pending')) {
      clearInterval(poll);
      microsoft.approveDevice(s.prompt.userCode!);
    }
  }, 50);
  const grant = await s.done.finally(() => clearInterval(poll));
  assert.equal(grant.provider, 'Microsoft');
  assert.equal(grant.tokenEndpoint, `${microsoft.server.origin}/contoso.onmicrosoft.com/oauth2/v2.0/token`);
  assert.equal(grant.revocationEndpoint, undefined, 'Microsoft has no revocation endpoint');
});

test('Microsoft preset: declined, expired and unknown device codes each in their own words', async () => {
  const declined = await beginSignIn('device', microsoftMail());
  microsoft.denyDevice(declined.prompt.userCode!);
  const d = await failure(declined.done);
  assert.equal(d.kind, 'declined');
  assert.match(d.message, /access was declined at Microsoft/);
  assert.doesNotMatch(d.message, /Trace ID|Correlation ID/, 'Microsoft\'s trace ids are noise to a user');

  const late = await beginSignIn('device', microsoftMail());
  microsoft.expireDevice(late.prompt.userCode!);
  const x = await failure(late.done);
  assert.match(x.message, /expired before it was entered/);

  // A device code Microsoft does not know (it was used already, or mangled): bad_verification_code.
  const lost = await beginSignIn('device', microsoftMail());
  microsoft.forgetDevice(lost.prompt.userCode!);
  const b = await failure(lost.done);
  assert.equal(b.kind, 'declined');
  assert.match(b.message, /Microsoft did not recognise the sign-in code/);
});

test('Microsoft preset: "Allow public client flows" off — the client id field says what to switch on', async () => {
  microsoft.publicClientFlows = false;
  try {
    const s = await beginSignIn('device', microsoftMail());
    microsoft.approveDevice(s.prompt.userCode!);
    const e = await failure(s.done);
    assert.equal(e.field, 'clientId');
    assert.match(e.message, /Allow public client flows/);
  } finally {
    microsoft.publicClientFlows = true;
  }
});

const refusals: [RefreshRefusal, RegExp][] = [
  ['consent_required', /Your organisation's admin must approve Panoptes/],
  ['interaction_required', /sign in yourself once more/],
  ['mfa', /multi-factor/],
  ['conditional_access', /conditional access/i],
  ['inactive', /unused for too long|inactiv/],
];
for (const [why, words] of refusals) {
  test(`Microsoft preset: a refresh refused with ${why} becomes "sign in again" in words a user can act on`, async () => {
    const s = await beginSignIn('device', microsoftMail());
    microsoft.approveDevice(s.prompt.userCode!);
    let stored: OAuthGrant | null = await s.done;
    const source = new TokenSource({ key: `preset-ms-${why}`, load: () => stored, save: (g) => (stored = g) });
    microsoft.refreshRefusal = why;
    try {
      const e = await failure(source.get(true));
      assert.equal(e.kind, 'signin-required');
      assert.match(e.message, /^sign in again/);
      assert.match(e.message, words);
      assert.doesNotMatch(e.message, /Trace ID|Correlation ID/);
      assert.ok(stored!.revoked, 'not sent again');
    } finally {
      microsoft.refreshRefusal = null;
    }
  });
}

test('PANOPTES_TEST_OAUTH_PRESET_ORIGINS (for the e2e agent process) names loopback origins only; anything else is refused as a whole', () => {
  const said: string[] = [];
  const parse = (v: string | undefined) => presetOriginsFromEnv(v, (l) => said.push(l));
  assert.deepEqual(parse(undefined), {});
  assert.deepEqual(said, [], 'not set: nothing said');
  assert.deepEqual(parse('google=http://127.0.0.1:4001 microsoft=http://127.0.0.1:4002'), { googleAccounts: 'http://127.0.0.1:4001', googleApis: 'http://127.0.0.1:4001', microsoft: 'http://127.0.0.1:4002' });
  assert.match(said.pop()!, /the Google and Microsoft presets sign in at a test server on this machine/);
  assert.deepEqual(parse('microsoft=http://[::1]:4002/'), { microsoft: 'http://[::1]:4002' });
  assert.match(said.pop()!, /the Microsoft preset signs in/);
  for (const bad of ['microsoft=https://login.evil.example', 'google=http://127.0.0.1:1 microsoft=http://10.0.0.5:2', 'google=http://127.0.0.1.evil.example', 'google=http://127.0.0.1:1/path', 'google=file:///etc', 'yahoo=http://127.0.0.1:1', 'google=http://user@127.0.0.1:1']) {
    assert.deepEqual(parse(bad), {}, bad);
    assert.match(said.pop()!, /ignored: .* is not google=… or microsoft=… with a loopback origin/, bad);
  }
});
