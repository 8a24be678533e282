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
}

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
  /** Token endpoint requests by grant_type, and refreshes that were refused. */
  readonly counts: { authorization_code: number; refresh_token: number; device_code: number; refused_refresh: number; introspect: number; revoke: number };
  /** Tokens revoked through the revocation endpoint (RFC 7009), as they were sent, with the hint and client. */
  readonly revocations: { token: string; hint: string | null; clientId: string | null; known: boolean }[];
  /** The device codes handed out (for the test to "type in" on another device). */
  readonly userCodes: string[];
  approveDevice(userCode: string): void;
  denyDevice(userCode: string): void;
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
  const aadsts: Record<string, number> = { invalid_grant: 70000, invalid_client: 7000215, access_denied: 65004, authorization_pending: 70016, expired_token: 70019 };
  const oauthError = (res: http.ServerResponse, error: string, description: string, status = 400) => {
    if (flavour !== 'microsoft') return json(res, status, { error, error_description: description });
    const code = aadsts[error] ?? 90000;
    const trace = randomBytes(16).toString('hex');
    json(res, status, {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${trace} Correlation ID: ${trace} Timestamp: ${new Date().toISOString()}`,
      error_codes: [code],
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
  server.route('/authorize', (req, res) => {
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
  });

  server.route('/device', async (req, res) => {
    const form = await readForm(req);
    if (!clientOk(form, req)) return oauthError(res, 'invalid_client', 'Client authentication failed', 401);
    const deviceCode = token();
    const userCode = randomBytes(4).toString('hex').toUpperCase().replace(/(.{4})/, '$1-');
    devices.set(deviceCode, { userCode, scope: granted(form.get('scope') ?? ''), clientId, state: 'pending', expiresAt: Date.now() + 600_000, lastPoll: 0, interval: 1 });
    userCodes.push(userCode);
    json(res, 200, { device_code: deviceCode, user_code: userCode, verification_uri: server.url('/activate'), verification_uri_complete: server.url(`/activate?user_code=${userCode}`), expires_in: 600, interval: 1 });
  });

  server.route('/token', async (req, res) => {
    const form = await readForm(req);
    if (!clientOk(form, req)) return oauthError(res, 'invalid_client', 'Client authentication failed', 401);
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
      if (!d) return oauthError(res, 'invalid_grant', 'unknown device code');
      if (Date.now() > d.expiresAt) return oauthError(res, 'expired_token', 'the device code expired');
      // §3.5: polling faster than the interval earns slow_down.
      const tooSoon = Date.now() - d.lastPoll < d.interval * 1000 - 200;
      d.lastPoll = Date.now();
      if (d.state === 'denied') return oauthError(res, 'access_denied', 'The user denied the request');
      if (d.state === 'pending') return oauthError(res, tooSoon ? 'slow_down' : 'authorization_pending', 'waiting for the user');
      devices.delete(form.get('device_code')!);
      return json(res, 200, issue(d.scope, d.clientId));
    }
    oauthError(res, 'unsupported_grant_type', String(type));
  });

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
    if (refresh.has(t)) {
      refresh.delete(t);
      access.clear(); // one user in this server: every access token is of the revoked grant
    }
    access.delete(t);
    res.writeHead(200, { 'cache-control': 'no-store' });
    res.end();
  });

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
