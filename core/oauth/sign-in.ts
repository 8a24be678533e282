// Signing in: the authorization-code flow with PKCE through the system browser and a one-shot listener on
// 127.0.0.1 for the redirect (RFC 6749 §4.1, RFC 7636, RFC 8252 §7.3), or the device flow for machines without a
// browser (RFC 8628). Either ends in a grant, checked to carry the scopes the plug-in needs.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuthError, describeProviderError } from './errors.js';
import { newPkce, newState, sameSecret } from './pkce.js';
import { grantSettingsOf, requestedScopes, resolveProvider, type OAuthClientSettings, type ProviderEndpoints } from './providers.js';
import { grantFromResponse, missingScopes, postForm, type ClientRef } from './token-endpoint.js';
import type { OAuthGrant } from './grant.js';

export type SignInFlow = 'browser' | 'device';

export interface SignInPrompt {
  flow: SignInFlow;
  /** Browser flow: the page to open. */
  authorizationUrl?: string;
  /** Device flow: what the user types where. */
  userCode?: string;
  verificationUri?: string;
  verificationUriComplete?: string;
  /** ms since epoch; after this the sign-in gives up. */
  expiresAt: number;
}

export interface SignIn {
  /** Display name of the provider ("Google", "Microsoft", or a discovered provider's host). */
  readonly provider: string;
  readonly prompt: SignInPrompt;
  /** Resolves with the grant, or rejects with an OAuthError saying what to do. */
  readonly done: Promise<OAuthGrant>;
  cancel(): void;
}

export interface SignInOptions {
  /** How long the browser flow waits for the redirect (default 10 min). */
  timeoutMs?: number;
  now?: () => number;
}

const BROWSER_TIMEOUT_MS = 10 * 60_000;

export async function beginSignIn(flow: SignInFlow, settings: OAuthClientSettings, opts: SignInOptions = {}): Promise<SignIn> {
  const endpoints = await resolveProvider(settings);
  return flow === 'device' ? beginDeviceSignIn(endpoints, settings, opts) : beginBrowserSignIn(endpoints, settings, opts);
}

function clientOf(endpoints: ProviderEndpoints, s: OAuthClientSettings): ClientRef {
  return {
    provider: endpoints.name,
    tokenEndpoint: endpoints.tokenEndpoint,
    clientId: s.clientId.trim(),
    ...(s.clientSecret ? { clientSecret: s.clientSecret } : {}),
    ...(endpoints.revocationEndpoint ? { revocationEndpoint: endpoints.revocationEndpoint } : {}),
    settings: grantSettingsOf(s),
  };
}

function checkScopes(grant: OAuthGrant, s: OAuthClientSettings): OAuthGrant {
  const missing = missingScopes(grant.scope, s.scopes);
  if (missing.length) {
    throw new OAuthError('scope', `signed in at ${grant.provider}, but without the permission Panoptes needs (${missing.join(', ')}); sign in again and allow access to mail (granted: ${grant.scope || 'nothing'})`, { code: 'insufficient_scope' });
  }
  return grant;
}

async function beginBrowserSignIn(endpoints: ProviderEndpoints, s: OAuthClientSettings, opts: SignInOptions): Promise<SignIn> {
  const now = opts.now ?? Date.now;
  const pkce = newPkce();
  const state = newState();
  const scope = requestedScopes(s).join(' ');
  const client = clientOf(endpoints, s);
  let settle!: { resolve: (g: OAuthGrant) => void; reject: (e: Error) => void };
  const done = new Promise<OAuthGrant>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => {}); // the caller may never wait for it (a cancelled form); the rejection is still delivered to those who do
  let finished = false;
  let redirectUri = '';

  const server = http.createServer((req, res) => {
    const page = (status: number, title: string, text: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" });
      res.end(`<!doctype html><meta charset="utf-8"><title>Panoptes – ${esc(title)}</title><body style="font:16px system-ui;margin:3em auto;max-width:34em"><h1>${esc(title)}</h1><p>${esc(text)}</p>`);
    };
    // Only the browser coming back to this listener: a page elsewhere that makes it send here (DNS rebinding) has another Host.
    const host = String(req.headers.host ?? '');
    if (host !== `127.0.0.1:${port()}` && host !== `localhost:${port()}`) return page(400, 'Wrong address', 'This listener only takes the sign-in redirect.');
    const url = new URL(req.url ?? '/', redirectUri);
    if (req.method !== 'GET' || url.pathname !== '/') return page(404, 'Not found', 'This listener only takes the sign-in redirect.');
    const gotState = url.searchParams.get('state') ?? '';
    // A redirect without our state is not the answer to this sign-in (an old tab, or a forged request): ignore it, keep waiting.
    if (!gotState || !sameSecret(gotState, state)) return page(400, 'Not this sign-in', 'This page does not belong to the sign-in Panoptes is waiting for. Start the sign-in again from Panoptes.');
    if (finished) return page(200, 'Already done', 'You can close this tab.');
    finished = true;
    const error = url.searchParams.get('error');
    if (error) {
      const err = describeProviderError(endpoints.name, error, url.searchParams.get('error_description') ?? undefined, 'authorize');
      page(200, 'Not signed in', err.message);
      return finish(err);
    }
    const code = url.searchParams.get('code');
    if (!code) {
      page(400, 'Not signed in', 'The provider sent no code.');
      return finish(new OAuthError('protocol', `${endpoints.name} redirected back without a code`));
    }
    void postForm(endpoints.name, endpoints.tokenEndpoint, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: client.clientId, client_secret: client.clientSecret, code_verifier: pkce.verifier }, 'token', undefined, now).then(
      (r) => {
        try {
          if (!r.ok) throw r.error;
          const grant = checkScopes(grantFromResponse(client, r.body, scope, r.skewMs, undefined, now), s);
          page(200, 'Signed in', `Panoptes is signed in${grant.account ? ` as ${grant.account}` : ''}. You can close this tab.`);
          finish(null, grant);
        } catch (err) {
          page(200, 'Not signed in', (err as Error).message);
          finish(err as Error);
        }
      },
    );
  });
  const port = () => (server.address() as AddressInfo).port;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  redirectUri = `http://${endpoints.redirectHost}:${port()}/`;
  const timer = setTimeout(() => finish(new OAuthError('declined', `no answer from the browser within ${Math.round((opts.timeoutMs ?? BROWSER_TIMEOUT_MS) / 60_000)} minutes; start the sign-in again`)), opts.timeoutMs ?? BROWSER_TIMEOUT_MS);
  timer.unref?.();

  function finish(err: Error | null, grant?: OAuthGrant) {
    finished = true;
    clearTimeout(timer);
    // Let the answer page go out before the listener closes.
    setTimeout(() => server.close(), 100).unref?.();
    server.closeIdleConnections?.();
    if (err) settle.reject(err);
    else settle.resolve(grant!);
  }

  const auth = new URL(endpoints.authorizationEndpoint);
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: redirectUri,
    scope,
    state,
    code_challenge: pkce.challenge,
    code_challenge_method: pkce.method,
    ...endpoints.authorizationParams,
  };
  for (const [k, v] of Object.entries(params)) auth.searchParams.set(k, v);
  return {
    provider: endpoints.name,
    prompt: { flow: 'browser', authorizationUrl: auth.toString(), expiresAt: now() + (opts.timeoutMs ?? BROWSER_TIMEOUT_MS) },
    done,
    cancel: () => {
      if (!finished) finish(new OAuthError('declined', 'sign-in cancelled'));
    },
  };
}

async function beginDeviceSignIn(endpoints: ProviderEndpoints, s: OAuthClientSettings, opts: SignInOptions): Promise<SignIn> {
  const now = opts.now ?? Date.now;
  if (!endpoints.deviceAuthorizationEndpoint) throw new OAuthError('client', `${endpoints.name} offers no device sign-in; use the browser sign-in`, { field: 'provider' });
  const client = clientOf(endpoints, s);
  const scope = requestedScopes(s).join(' ');
  const start = await postForm(endpoints.name, endpoints.deviceAuthorizationEndpoint, { client_id: client.clientId, client_secret: client.clientSecret, scope }, 'device', undefined, now);
  if (!start.ok) throw start.error;
  const b = start.body as Record<string, unknown>;
  const deviceCode = String(b.device_code ?? '');
  const userCode = String(b.user_code ?? '');
  // Google's device endpoint says verification_url, the RFC verification_uri.
  const verificationUri = String(b.verification_uri ?? b.verification_url ?? '');
  if (!deviceCode || !userCode || !verificationUri) throw new OAuthError('protocol', `${endpoints.name}'s device sign-in answer lacks device_code, user_code or verification_uri`);
  const expiresAt = now() + Math.max(60, Number(b.expires_in ?? 900)) * 1000;
  let intervalMs = Math.max(1, Number(b.interval ?? 5)) * 1000;
  let cancelled = false;
  const controller = new AbortController();

  const done = (async (): Promise<OAuthGrant> => {
    for (;;) {
      await new Promise((r) => setTimeout(r, intervalMs));
      if (cancelled) throw new OAuthError('declined', 'sign-in cancelled');
      if (now() > expiresAt) throw new OAuthError('declined', 'the sign-in code expired before it was entered; start the sign-in again', { code: 'expired_token' });
      const r = await postForm(endpoints.name, endpoints.tokenEndpoint, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode, client_id: client.clientId, client_secret: client.clientSecret }, 'token', controller.signal, now);
      if (r.ok) return checkScopes(grantFromResponse(client, r.body, scope, r.skewMs, undefined, now), s);
      // RFC 8628 §3.5: keep polling while pending; slow_down adds 5 s to the interval for good.
      if (r.error.code === 'authorization_pending') continue;
      if (r.error.code === 'slow_down') {
        intervalMs += 5_000;
        continue;
      }
      if (r.error.kind === 'transient') {
        intervalMs = Math.max(intervalMs, r.error.retryAfterMs ?? intervalMs * 2);
        continue;
      }
      throw r.error;
    }
  })();
  done.catch(() => {});
  return {
    provider: endpoints.name,
    prompt: { flow: 'device', userCode, verificationUri, ...(typeof b.verification_uri_complete === 'string' ? { verificationUriComplete: b.verification_uri_complete } : {}), expiresAt },
    done,
    cancel: () => {
      cancelled = true;
      controller.abort();
    },
  };
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
