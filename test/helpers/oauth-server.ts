// A local OAuth 2.0 authorization server written to the RFCs, for tests: discovery (OpenID Connect Discovery),
// the authorization endpoint with PKCE (RFC 6749 §4.1, RFC 7636 S256 only), the token endpoint (authorization
// code, refresh with rotation, device code), the device authorization endpoint (RFC 8628), token revocation
// (RFC 7009) and token introspection (RFC 7662) for Dovecot's oauth2 passdb. The "user" is the test: `consent` decides what the
// authorization page answers, `approveDevice` enters a device code. Every token request is counted.
import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import { startTestServer, type TestServer } from './http-server.js';

export interface OAuthTestServerOptions {
  clientId?: string;
  /** Confidential client: token requests must carry this secret. */
  clientSecret?: string;
  /** The user who signs in (their address goes in the ID token; `username` is what introspection names). */
  user?: { username: string; email: string };
  /** Access token lifetime in seconds. */
  accessTokenSeconds?: number;
  /** Scopes the user grants when asked (default: all that were asked). */
  grantScopes?: (asked: string[]) => string[];
  /** Skew the Date header by this many ms (a server whose clock is off from ours). */
  dateOffsetMs?: number;
  /**
   * Answer the token endpoint as a real provider documents it: `google` (refresh answers carry no new refresh token,
   * errors are a bare error + description), `microsoft` (ext_expires_in, rotated refresh tokens, AADSTS errors with
   * error_codes, trace and correlation ids). Default: the RFCs' minimum.
   */
  flavour?: 'rfc' | 'google' | 'microsoft';
  /**
   * Google: which scopes its device flow hands out (Google documents a short list; mail is not on it). Default:
   * the sign-in scopes and Drive's per-file scope.
   */
  googleDeviceScopes?: string[];
  /** Microsoft: tenants served at /{tenant}/oauth2/v2.0/… besides common, organizations and consumers. */
  tenants?: string[];
  /** Seconds between device polls the server asks for (Google says 5, Microsoft 5; tests ask less). */
  deviceInterval?: number;
}

/** How a provider refuses a refresh, in Microsoft's documented shapes (error, suberror, AADSTS code). */
export type RefreshRefusal = 'consent_required' | 'interaction_required' | 'mfa' | 'conditional_access' | 'inactive';

interface Issued {
  username: string;
  scope: string;
  expiresAt: number;
  clientId: string;
}

export interface OAuthTestServer {
  readonly issuer: string;
  readonly server: TestServer;
  readonly clientId: string;
  /**
   * What the authorization page does when the browser arrives: approve, deny, neither (leave the tab open), or
   * `ask`: show a consent page with "Allow" and "Deny" buttons for a browser test to press, as a provider does.
   */
  consent: 'allow' | 'deny' | 'ignore' | 'ask';
  /** Microsoft: every refresh is refused this way (an admin withdrew consent, MFA is now asked…); null: normal. */
  refreshRefusal: RefreshRefusal | null;
  /** Microsoft: "Allow public client flows" in the app registration; off, a request without a secret is refused. */
  publicClientFlows: boolean;
  /** Token endpoint requests by grant_type, and refreshes that were refused. */
  readonly counts: { authorization_code: number; refresh_token: number; device_code: number; refused_refresh: number; introspect: number; revoke: number };
  /** Tokens revoked through the revocation endpoint (RFC 7009), as they were sent, with the hint and client. */
  readonly revocations: { token: string; hint: string | null; clientId: string | null; known: boolean }[];
  /** The device codes handed out (for the test to "type in" on another device). */
  readonly userCodes: string[];
  approveDevice(userCode: string): void;
  denyDevice(userCode: string): void;
  /** The device code runs out before the user enters it. */
  expireDevice(userCode: string): void;
  /** The server forgets a device code (as if it had been used or mangled): the next poll names it unknown. */
  forgetDevice(userCode: string): void;
  /** The next `count` polls of a pending sign-in are told slow_down, however slowly they came. */
  slowDown(count: number): void;
  /** Device polls answered so far, by error code ("ok" for the one that got tokens), in order. */
  readonly devicePolls: string[];
  /** The user revokes Panoptes' access: refresh tokens and access tokens stop working. */
  revokeAll(): void;
  /** Make the current access tokens expire now (as if time had passed). */
  expireAccessTokens(): void;
  /** Is this access token active (as introspection would say)? */
  isActive(token: string): boolean;
  /** What introspection knows about an active token (null when it is not active). */
  tokenInfo(token: string): { username: string; scope: string } | null;
  close(): Promise<void>;
}

export async function startOAuthServer(opts: OAuthTestServerOptions = {}): Promise<OAuthTestServer> {
  const server = await startTestServer();
  const clientId = opts.clientId ?? 'panoptes-test-client';
  const user = opts.user ?? { username: 'alice', email: 'alice@example.org' };
  const lifetime = opts.accessTokenSeconds ?? 3600;
  const codes = new Map<string, { clientId: string; redirectUri: string; challenge: string; scope: string }>();
  const access = new Map<string, Issued>();
  const refresh = new Map<string, { username: string; scope: string; clientId: string }>();
  const devices = new Map<string, { userCode: string; scope: string; clientId: string; state: 'pending' | 'approved' | 'denied'; expiresAt: number; lastPoll: number; interval: number }>();
  const devicePolls: string[] = [];
  let slowDownLeft = 0;
  const deviceInterval = opts.deviceInterval ?? 1;
  /** Google's documented device-flow scopes (a few; Gmail's is not among them). */
  const googleDeviceScopes = new Set(opts.googleDeviceScopes ?? ['openid', 'email', 'profile', 'https://www.googleapis.com/auth/userinfo.email', 'https://www.googleapis.com/auth/userinfo.profile', 'https://www.googleapis.com/auth/drive.file']);
  const counts = { authorization_code: 0, refresh_token: 0, device_code: 0, refused_refresh: 0, introspect: 0, revoke: 0 };
  const revocations: OAuthTestServer['revocations'] = [];
  const userCodes: string[] = [];
  const token = () => randomBytes(24).toString('base64url');

  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', date: new Date(Date.now() + (opts.dateOffsetMs ?? 0)).toUTCString(), ...headers });
    res.end(JSON.stringify(body));
  };
  const flavour = opts.flavour ?? 'rfc';
  /** Microsoft identity platform: the AADSTS code leads the description, and error_codes repeats it as a number. */
  const aadsts: Record<string, number> = { invalid_grant: 70000, invalid_client: 7000215, access_denied: 65004, authorization_pending: 70016, authorization_declined: 70000, bad_verification_code: 70000, expired_token: 70019 };
  const oauthError = (res: http.ServerResponse, error: string, description: string, status = 400, ms: { code?: number; suberror?: string } = {}) => {
    if (flavour !== 'microsoft') return json(res, status, { error, error_description: description });
    const code = ms.code ?? aadsts[error] ?? 90000;
    const trace = randomBytes(16).toString('hex');
    // The description as Microsoft sends it: the AADSTS code first, then trace and correlation ids on lines of their own.
    json(res, status, {
      error,
      error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${trace}\r\nCorrelation ID: ${trace}\r\nTimestamp: ${new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')}`,
      error_codes: [code],
      ...(ms.suberror ? { suberror: ms.suberror } : {}),
      timestamp: new Date().toISOString().replace('T', ' ').replace('Z', 'Z'),
      trace_id: trace,
      correlation_id: trace,
      error_uri: `${server.origin}/error?code=${code}`,
    });
  };
  const readForm = async (req: http.IncomingMessage): Promise<URLSearchParams> => {
    let body = '';
    for await (const chunk of req) body += chunk;
    return new URLSearchParams(body);
  };
  /** RFC 6749 §2.3.1: client_secret_post (or basic) for confidential clients; public clients send their id only. */
  const clientOk = (form: URLSearchParams, req: http.IncomingMessage): boolean => {
    let id = form.get('client_id');
    let secret = form.get('client_secret');
    const basic = /^Basic (.+)$/i.exec(String(req.headers.authorization ?? ''));
    if (basic) [id, secret] = Buffer.from(basic[1]!, 'base64').toString().split(':') as [string, string];
    if (id !== clientId) return false;
    return opts.clientSecret ? secret === opts.clientSecret : true;
  };
  const idToken = () => {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    return `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ iss: server.origin, sub: user.username, aud: clientId, email: user.email, iat: now, exp: now + 3600 })}.`;
  };
  const issue = (scope: string, cid: string, withRefresh = true) => {
    const at = token();
    access.set(at, { username: user.username, scope, expiresAt: Date.now() + lifetime * 1000, clientId: cid });
    const body: Record<string, unknown> = { access_token: at, token_type: 'Bearer', expires_in: lifetime, scope };
    if (flavour === 'microsoft') body.ext_expires_in = lifetime;
    if (withRefresh) {
      const rt = token();
      refresh.set(rt, { username: user.username, scope, clientId: cid });
      body.refresh_token = rt;
    }
    if (scope.split(' ').includes('openid')) body.id_token = idToken();
    return body;
  };
  const granted = (asked: string) => (opts.grantScopes ?? ((a) => a))(asked.split(/\s+/).filter(Boolean)).join(' ');

  server.route('/.well-known/openid-configuration', (_req, res) =>
    json(res, 200, {
      issuer: server.origin,
      authorization_endpoint: server.url('/authorize'),
      token_endpoint: server.url('/token'),
      device_authorization_endpoint: server.url('/device'),
      introspection_endpoint: server.url('/introspect'),
      revocation_endpoint: server.url('/revoke'),
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    }),
  );

  const api: OAuthTestServer = {
    issuer: server.origin,
    server,
    clientId,
    consent: 'allow',
    refreshRefusal: null,
    publicClientFlows: true,
    devicePolls,
    expireDevice: (c) => void [...devices.values()].filter((d) => d.userCode === c).forEach((d) => (d.expiresAt = Date.now() - 1)),
    forgetDevice: (c) => void [...devices.entries()].filter(([, d]) => d.userCode === c).forEach(([k]) => devices.delete(k)),
    slowDown: (n) => void (slowDownLeft = n),
    counts,
    revocations,
    userCodes,
    approveDevice: (c) => void [...devices.values()].filter((d) => d.userCode === c).forEach((d) => (d.state = 'approved')),
    denyDevice: (c) => void [...devices.values()].filter((d) => d.userCode === c).forEach((d) => (d.state = 'denied')),
    revokeAll() {
      refresh.clear();
      access.clear();
    },
    expireAccessTokens() {
      for (const t of access.values()) t.expiresAt = Date.now() - 1;
    },
    isActive: (t) => (access.get(t)?.expiresAt ?? 0) > Date.now(),
    tokenInfo: (t) => {
      const i = access.get(t);
      return i && i.expiresAt > Date.now() ? { username: i.username, scope: i.scope } : null;
    },
    close: () => server.close(),
  };

  // §4.1.1: a user agent arrives here; the test's "user" decides, the answer is a redirect (§4.1.2 / §4.1.2.1).
  const authorize = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const q = new URL(req.url ?? '/', server.origin).searchParams;
    const redirectUri = q.get('redirect_uri') ?? '';
    // Unknown client or bad redirect: the server must not redirect (§4.1.2.1); it tells the user on the page.
    if (q.get('client_id') !== clientId) {
      res.writeHead(400, { 'content-type': 'text/html' });
      return void res.end('<h1>Error 401: invalid_client</h1><p>The OAuth client was not found.</p>');
    }
    if (!/^http:\/\/(127\.0\.0\.1|localhost):\d+\//.test(redirectUri)) {
      res.writeHead(400, { 'content-type': 'text/html' });
      return void res.end('<h1>redirect_uri_mismatch</h1>');
    }
    const back = new URL(redirectUri);
    const state = q.get('state');
    if (state) back.searchParams.set('state', state);
    const fail = (error: string, description: string) => {
      back.searchParams.set('error', error);
      back.searchParams.set('error_description', description);
      res.writeHead(302, { location: back.toString() });
      res.end();
    };
    if (q.get('response_type') !== 'code') return fail('unsupported_response_type', 'only code');
    if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) return fail('invalid_request', 'PKCE with S256 is required');
    if (api.consent === 'ignore') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return void res.end('<h1>Sign in</h1>');
    }
    const approve = () => {
      const code = token();
      codes.set(code, { clientId, redirectUri, challenge: q.get('code_challenge')!, scope: granted(q.get('scope') ?? '') });
      back.searchParams.set('code', code);
      res.writeHead(302, { location: back.toString() });
      res.end();
    };
    const decision = q.get('decision');
    if (decision === 'allow') return approve();
    if (decision === 'deny') return fail('access_denied', 'The user denied the request');
    if (api.consent === 'deny') return fail('access_denied', 'The user denied the request');
    if (api.consent === 'ask') {
      // The same request again with the user's answer, as the buttons of a provider's consent page do.
      const answer = (d: string) => {
        const u = new URL(req.url ?? '/', server.origin);
        u.searchParams.set('decision', d);
        return u.pathname + u.search;
      };
      const attr = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return void res.end(
        `<!doctype html><title>Sign in – Test Provider</title><h1>Panoptes wants to access your account</h1>` +
          `<p>${attr(user.email)} · ${attr(q.get('scope') ?? '')}</p>` +
          `<a role="button" href="${attr(answer('allow'))}">Allow</a> <a role="button" href="${attr(answer('deny'))}">Deny</a>`,
      );
    }
    approve();
  };
  server.route('/authorize', authorize);

  const device = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const form = await readForm(req);
    if (!clientOk(form, req)) return oauthError(res, 'invalid_client', 'Client authentication failed', 401);
    const asked = (form.get('scope') ?? '').split(/\s+/).filter(Boolean);
    // Google's device flow serves only its short list of scopes; anything else is refused as a whole.
    const refused = flavour === 'google' ? asked.filter((x) => !googleDeviceScopes.has(x)) : [];
    if (refused.length) return json(res, 400, { error: 'invalid_scope', error_description: `Some requested scopes were invalid. {valid=[${asked.filter((x) => googleDeviceScopes.has(x)).join(', ')}], invalid=[${refused.join(', ')}]}` });
    const deviceCode = token();
    const userCode = randomBytes(4).toString('hex').toUpperCase().replace(/(.{4})/, '$1-');
    const lifetime = flavour === 'google' ? 1800 : flavour === 'microsoft' ? 900 : 600;
    devices.set(deviceCode, { userCode, scope: granted(form.get('scope') ?? ''), clientId, state: 'pending', expiresAt: Date.now() + lifetime * 1000, lastPoll: 0, interval: deviceInterval });
    userCodes.push(userCode);
    if (flavour === 'google') return json(res, 200, { device_code: deviceCode, user_code: userCode, verification_url: server.url('/device-google'), expires_in: lifetime, interval: deviceInterval });
    if (flavour === 'microsoft') {
      const where = server.url('/devicelogin');
      return json(res, 200, { user_code: userCode, device_code: deviceCode, verification_uri: where, expires_in: lifetime, interval: deviceInterval, message: `To sign in, use a web browser to open the page ${where} and enter the code ${userCode} to authenticate.` });
    }
    json(res, 200, { device_code: deviceCode, user_code: userCode, verification_uri: server.url('/activate'), verification_uri_complete: server.url(`/activate?user_code=${userCode}`), expires_in: lifetime, interval: deviceInterval });
  };
  server.route('/device', device);

  const tokenEndpoint = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const form = await readForm(req);
    if (!clientOk(form, req)) return oauthError(res, 'invalid_client', 'Client authentication failed', 401);
    // Microsoft: an app registration without "Allow public client flows" wants a secret (or assertion) from every client.
    if (flavour === 'microsoft' && !api.publicClientFlows && !form.get('client_secret')) {
      return oauthError(res, 'invalid_client', "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", 401, { code: 7000218 });
    }
    const type = form.get('grant_type');
    if (type === 'authorization_code') {
      counts.authorization_code++;
      const c = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? ''); // single use (§4.1.2)
      if (!c || c.redirectUri !== form.get('redirect_uri')) return oauthError(res, 'invalid_grant', 'code unknown, used, or issued for another redirect_uri');
      const verifier = form.get('code_verifier') ?? '';
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || createHash('sha256').update(verifier).digest('base64url') !== c.challenge) return oauthError(res, 'invalid_grant', 'PKCE verification failed');
      return json(res, 200, issue(c.scope, c.clientId));
    }
    if (type === 'refresh_token') {
      counts.refresh_token++;
      const rt = form.get('refresh_token') ?? '';
      const r = refresh.get(rt);
      if (r && flavour === 'microsoft' && api.refreshRefusal) {
        counts.refused_refresh++;
        return refuseRefresh(res, api.refreshRefusal);
      }
      if (!r) {
        counts.refused_refresh++;
        return oauthError(res, 'invalid_grant', flavour === 'microsoft' ? "The refresh token has expired or is invalid due to sign-in frequency checks by conditional access." : 'Token has been expired or revoked.');
      }
      // Google keeps the refresh token and sends none back; Microsoft (and the RFC default here) rotate it.
      if (flavour === 'google') {
        const body = issue(r.scope, r.clientId, false);
        delete body.id_token;
        return json(res, 200, body);
      }
      refresh.delete(rt); // rotation: the old refresh token is spent
      return json(res, 200, issue(r.scope, r.clientId));
    }
    if (type === 'urn:ietf:params:oauth:grant-type:device_code') {
      counts.device_code++;
      const d = devices.get(form.get('device_code') ?? '');
      // Each provider's words and HTTP statuses for the RFC 8628 §3.5 answers: Google answers "pending" with 428 and
      // "slow down" / "denied" with 403; Microsoft answers everything with 400, says authorization_declined for a no,
      // and bad_verification_code for a device code it never issued.
      const poll = (error: string, description: string, google: number) => {
        devicePolls.push(error);
        return flavour === 'google' ? json(res, google, { error, error_description: description }) : oauthError(res, error, description, 400);
      };
      if (!d) return flavour === 'microsoft' ? poll('bad_verification_code', 'The provided value for the input parameter \'device_code\' is not valid.', 400) : poll('invalid_grant', 'Malformed auth code.', 400);
      if (Date.now() > d.expiresAt) return poll('expired_token', flavour === 'microsoft' ? 'The provided code has expired.' : 'the device code expired', 400);
      // §3.5: polling faster than the interval earns slow_down.
      const tooSoon = Date.now() - d.lastPoll < d.interval * 1000 - 200 || (d.state === 'pending' && slowDownLeft-- > 0);
      d.lastPoll = Date.now();
      if (d.state === 'denied') return flavour === 'microsoft' ? poll('authorization_declined', 'The end user denied the authorization request.', 400) : poll('access_denied', flavour === 'google' ? 'Forbidden' : 'The user denied the request', 403);
      if (d.state === 'pending') return tooSoon ? poll('slow_down', flavour === 'google' ? 'Forbidden' : 'polling too fast', 403) : poll('authorization_pending', flavour === 'google' ? 'Precondition Required' : 'waiting for the user', 428);
      devices.delete(form.get('device_code')!);
      devicePolls.push('ok');
      return json(res, 200, issue(d.scope, d.clientId));
    }
    oauthError(res, 'unsupported_grant_type', String(type));
  };
  server.route('/token', tokenEndpoint);

  /** Microsoft's answers to a refresh it will not honour (its documented error, suberror and AADSTS codes). */
  const refuseRefresh = (res: http.ServerResponse, why: RefreshRefusal) => {
    switch (why) {
      case 'consent_required':
        return oauthError(res, 'invalid_grant', `The user or administrator has not consented to use the application with ID '${clientId}' named 'Panoptes'. Send an interactive authorization request for this user and resource.`, 400, { code: 65001, suberror: 'consent_required' });
      case 'interaction_required':
        return oauthError(res, 'interaction_required', 'The request requires user interaction.', 400, { code: 50079 });
      case 'mfa':
        return oauthError(res, 'invalid_grant', "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access 'outlook.office.com'.", 400, { code: 50076, suberror: 'basic_action' });
      case 'conditional_access':
        return oauthError(res, 'invalid_grant', 'Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.', 400, { code: 53003 });
      case 'inactive':
        return oauthError(res, 'invalid_grant', 'The refresh token has expired due to inactivity. The token was issued on 2026-01-01T00:00:00Z and was inactive for 90.00:00:00.', 400, { code: 700082, suberror: 'bad_token' });
    }
  };

  // RFC 7009: the client revokes a token; a refresh token takes the access tokens of its grant with it (§2.1). An
  // unknown token is still answered 200 (§2.2): the client cannot tell, and need not.
  server.route('/revoke', async (req, res) => {
    counts.revoke++;
    const form = await readForm(req);
    if (!clientOk(form, req)) return oauthError(res, 'invalid_client', 'Client authentication failed', 401);
    const t = form.get('token') ?? '';
    if (!t) return oauthError(res, 'invalid_request', 'token is required');
    const known = refresh.has(t) || access.has(t);
    revocations.push({ token: t, hint: form.get('token_type_hint'), clientId: form.get('client_id'), known });
    // Google does not follow RFC 7009 §2.2 here: a token it no longer honours is answered 400 invalid_token.
    if (!known && flavour === 'google') return json(res, 400, { error: 'invalid_token', error_description: 'Token expired or revoked' });
    if (refresh.has(t)) {
      refresh.delete(t);
      access.clear(); // one user in this server: every access token is of the revoked grant
    }
    access.delete(t);
    res.writeHead(200, { 'cache-control': 'no-store' });
    res.end();
  });

  // The presets' own paths: Google's (accounts.google.com and oauth2.googleapis.com on one origin here) and
  // Microsoft's identity platform v2.0 under each tenant.
  if (flavour === 'google') {
    server.route('/o/oauth2/v2/auth', authorize);
    server.route('/device/code', device);
  }
  if (flavour === 'microsoft') {
    for (const tenant of ['common', 'organizations', 'consumers', ...(opts.tenants ?? [])]) {
      server.route(`/${tenant}/oauth2/v2.0/authorize`, authorize);
      server.route(`/${tenant}/oauth2/v2.0/token`, tokenEndpoint);
      server.route(`/${tenant}/oauth2/v2.0/devicecode`, device);
    }
  }

  // RFC 7662: Dovecot posts token=…; an unknown or expired token is just {active:false}.
  server.route('/introspect', async (req, res) => {
    counts.introspect++;
    const form = await readForm(req);
    const t = access.get(form.get('token') ?? '');
    if (!t || t.expiresAt <= Date.now()) return json(res, 200, { active: false });
    json(res, 200, { active: true, username: t.username, scope: t.scope, client_id: t.clientId, exp: Math.floor(t.expiresAt / 1000), token_type: 'Bearer' });
  });
  return api;
}

/** Play the browser: follow the authorization URL and its redirect back to the loopback listener; returns the final page. */
export async function visitAsBrowser(url: string): Promise<{ status: number; text: string }> {
  let next = url;
  for (let i = 0; i < 5; i++) {
    const res = await fetch(next, { redirect: 'manual' });
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      next = new URL(location, next).toString();
      continue;
    }
    return { status: res.status, text: await res.text() };
  }
  throw new Error('too many redirects');
}
