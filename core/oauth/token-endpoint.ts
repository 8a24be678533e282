// Talking to a token endpoint (RFC 6749 §4.1.3, §6; RFC 8628 §3.4): form-encoded POSTs, JSON answers, errors
// in RFC terms turned into OAuthErrors, throttling (429/503 with Retry-After) reported as transient with its wait.
import { boundedFetch } from '../../base/http.js';
import { retryAfterMs } from '../../base/conditional-get.js';
import { OAuthError, describeProviderError } from './errors.js';
import { scopeSet, type GrantSettings, type OAuthGrant } from './grant.js';

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number | string;
  refresh_token?: string;
  scope?: string;
  id_token?: string;
}

export interface ClientRef {
  provider: string;
  tokenEndpoint: string;
  clientId: string;
  clientSecret?: string;
  revocationEndpoint?: string;
  settings?: GrantSettings;
}

/** Lifetime assumed when a provider leaves out expires_in (RFC 6749 §5.1 only recommends it). */
const DEFAULT_LIFETIME_S = 3600;

export type PostResult = { ok: true; body: Record<string, unknown>; skewMs: number | undefined } | { ok: false; error: OAuthError };

/** POST a form to an OAuth endpoint; an RFC error answer is returned (not thrown) so callers can poll on it. */
export async function postForm(provider: string, url: string, form: Record<string, string | undefined>, during: 'authorize' | 'token' | 'refresh' | 'device', signal?: AbortSignal, now: () => number = Date.now): Promise<PostResult> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) if (v !== undefined && v !== '') body.set(k, v);
  let res;
  try {
    res = await boundedFetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: body.toString(), timeoutMs: 20_000, maxBytes: 256 * 1024, redirect: 'error' }, signal);
  } catch (err) {
    return { ok: false, error: new OAuthError('transient', `could not reach ${provider}: ${(err as Error).message}`) };
  }
  const date = Date.parse(res.headers.get('date') ?? '');
  const skewMs = Number.isFinite(date) ? date - now() : undefined;
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    json = null;
  }
  if (res.status === 429 || res.status === 503) {
    return { ok: false, error: new OAuthError('transient', `${provider} asks to slow down (HTTP ${res.status})`, { retryAfterMs: retryAfterMs(res.headers.get('retry-after'), now()) ?? 60_000 }) };
  }
  if (json && typeof json.error === 'string') {
    const detail = {
      ...(typeof json.suberror === 'string' ? { suberror: json.suberror } : {}),
      ...(Array.isArray(json.error_codes) ? { errorCodes: json.error_codes.filter((n): n is number => typeof n === 'number') } : {}),
      ...(typeof json.error_subtype === 'string' ? { subtype: json.error_subtype } : {}),
    };
    return { ok: false, error: describeProviderError(provider, json.error, typeof json.error_description === 'string' ? json.error_description : undefined, during, detail) };
  }
  if (res.status >= 500) return { ok: false, error: new OAuthError('transient', `${provider} answered HTTP ${res.status}`) };
  if (!res.ok || !json) return { ok: false, error: new OAuthError('protocol', `${provider} answered HTTP ${res.status} without an OAuth answer from ${url}`) };
  return { ok: true, body: json, skewMs };
}

/** A successful token answer as a grant; `previous` supplies what a refresh answer may leave out. */
export function grantFromResponse(client: ClientRef, body: Record<string, unknown>, requestedScope: string, skewMs: number | undefined, previous?: OAuthGrant, now: () => number = Date.now): OAuthGrant {
  const t = body as unknown as TokenResponse;
  if (typeof t.access_token !== 'string' || !t.access_token) throw new OAuthError('protocol', `${client.provider}'s token answer has no access_token`);
  if (String(t.token_type ?? '').toLowerCase() !== 'bearer') throw new OAuthError('protocol', `${client.provider} gave a "${t.token_type}" token; only Bearer tokens work for mail`);
  const lifetime = Number(t.expires_in ?? DEFAULT_LIFETIME_S);
  const at = now();
  return {
    v: 1,
    provider: client.provider,
    tokenEndpoint: client.tokenEndpoint,
    clientId: client.clientId,
    ...(client.clientSecret ? { clientSecret: client.clientSecret } : {}),
    ...(client.revocationEndpoint ? { revocationEndpoint: client.revocationEndpoint } : {}),
    ...(client.settings ? { settings: client.settings } : {}),
    accessToken: t.access_token,
    // §6: the server may issue a new refresh token; if not, the old one stays valid.
    ...(t.refresh_token ?? previous?.refreshToken ? { refreshToken: t.refresh_token ?? previous?.refreshToken } : {}),
    expiresAt: at + (Number.isFinite(lifetime) && lifetime > 0 ? lifetime : DEFAULT_LIFETIME_S) * 1000,
    obtainedAt: at,
    // §5.1: scope may be left out when it is what was asked.
    scope: typeof t.scope === 'string' && t.scope ? t.scope : previous?.scope ?? requestedScope,
    account: accountFromIdToken(t.id_token) ?? previous?.account ?? null,
    ...(skewMs !== undefined ? { clockSkewMs: skewMs } : {}),
  };
}

/**
 * The address in an ID token. It came straight from the token endpoint over TLS, so its signature need not be
 * checked to trust it as the account's name (OpenID Connect Core §3.1.3.7, item 6); it authorises nothing.
 */
export function accountFromIdToken(idToken: string | undefined): string | null {
  if (!idToken) return null;
  const part = idToken.split('.')[1];
  if (!part) return null;
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
    for (const k of ['email', 'preferred_username', 'upn']) if (typeof claims[k] === 'string' && (claims[k] as string).includes('@')) return claims[k] as string;
    return null;
  } catch {
    return null;
  }
}

/** The scopes the plug-in needs that the grant lacks (users can untick permissions on Google's consent page). */
export function missingScopes(granted: string, needed: string[]): string[] {
  const have = scopeSet(granted);
  return needed.filter((s) => !have.has(s.toLowerCase()));
}
