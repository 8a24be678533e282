// Signing out at the provider: RFC 7009 token revocation. Revoking the refresh token ends the whole grant (§2.1), so
// the provider stops honouring its access tokens too. Providers without a revocation endpoint (Microsoft's identity
// platform has none for apps) leave it to the user's account page; the message says where.
import { boundedFetch } from '../../base/http.js';
import type { OAuthGrant } from './grant.js';

export interface Revocation {
  /** True when the provider confirmed it (HTTP 200). */
  revoked: boolean;
  /** What to tell the user, whatever happened. */
  message: string;
}

/** Where a user ends an app's access by hand, per provider (their documented account pages). */
const ACCOUNT_PAGES: Record<string, string> = {
  Google: 'https://myaccount.google.com/permissions',
  Microsoft: 'https://myapps.microsoft.com (work or school account) or https://account.live.com/consent/Manage (personal account)',
};

const byHand = (g: Pick<OAuthGrant, 'provider'>) => (ACCOUNT_PAGES[g.provider] ? `remove Panoptes at ${ACCOUNT_PAGES[g.provider]}` : `remove Panoptes' access in your account settings at ${g.provider}`);

export function revocationNote(g: Pick<OAuthGrant, 'provider' | 'revocationEndpoint'>): string {
  if (g.revocationEndpoint) return `signing out also revokes the sign-in at ${g.provider}`;
  if (g.provider === 'Microsoft') return `Microsoft offers apps no way to revoke a sign-in: signing out forgets it here; to end it at Microsoft too, ${byHand(g)}`;
  return `${g.provider} offers no revocation endpoint: signing out forgets it here; to end it there too, ${byHand(g)}`;
}

export async function revokeGrant(g: OAuthGrant, signal?: AbortSignal): Promise<Revocation> {
  if (!g.revocationEndpoint) return { revoked: false, message: `signed out here; ${revocationNote(g)}` };
  const token = g.refreshToken ?? g.accessToken;
  const body = new URLSearchParams({ token, token_type_hint: g.refreshToken ? 'refresh_token' : 'access_token', client_id: g.clientId });
  if (g.clientSecret) body.set('client_secret', g.clientSecret);
  try {
    const res = await boundedFetch(g.revocationEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: body.toString(), timeoutMs: 15_000, maxBytes: 64 * 1024, redirect: 'error' }, signal);
    // §2.2: 200 also for a token the server no longer knows; §2.2.1: an error answer is JSON as at the token endpoint.
    if (res.ok) return { revoked: true, message: `signed out: the sign-in was revoked at ${g.provider} and forgotten here` };
    let said = '';
    try {
      const j = JSON.parse(res.body.toString('utf8')) as { error?: string; error_description?: string };
      // Google answers a token it no longer honours with 400 invalid_token (RFC 7009 §2.2 says 200): already ended.
      if (res.status === 400 && j.error === 'invalid_token') return { revoked: true, message: `signed out: ${g.provider} no longer honoured the sign-in (it was revoked or had expired), and it is forgotten here` };
      said = j.error ? ` (${j.error}${j.error_description ? `: ${j.error_description.slice(0, 200)}` : ''})` : '';
    } catch {
      /* not JSON */
    }
    return { revoked: false, message: `signed out here, but ${g.provider} did not revoke the sign-in: HTTP ${res.status}${said}; ${byHand(g)}` };
  } catch (err) {
    return { revoked: false, message: `signed out here, but ${g.provider} could not be reached to revoke the sign-in (${(err as Error).message}); ${byHand(g)}` };
  }
}
