// A grant as kept in the secret store (one JSON string in a secret field): the tokens and what is needed to renew
// them without asking the settings again. Expiry is in this machine's clock, from `expires_in` as received, so a
// clock that is off does not make tokens look expired or fresh.
export interface OAuthGrant {
  v: 1;
  /** Display name of the provider ("Google", "Microsoft", "auth.example.org"). */
  provider: string;
  tokenEndpoint: string;
  clientId: string;
  clientSecret?: string;
  accessToken: string;
  refreshToken?: string;
  /** ms since epoch (local clock) when the access token expires. */
  expiresAt: number;
  /** ms since epoch when it was obtained: with expiresAt, the token's lifetime. */
  obtainedAt: number;
  /** Granted scopes, space separated. */
  scope: string;
  /** The signed-in address, from the ID token, when the provider gave one. */
  account: string | null;
  /** How far the provider's clock (its Date header) is ahead of ours, in ms. */
  clockSkewMs?: number;
  /** Set when the provider refused the refresh token: it is never sent again; the user has to sign in again. */
  revoked?: string;
  /** Where signing out revokes it (RFC 7009), when the provider has such an endpoint (Microsoft has none). */
  revocationEndpoint?: string;
  /**
   * The settings it was made for: a monitor whose provider, client id, tenant or issuer was changed since must not go
   * on using it (it would sign in as the old app, at the old place). Grants from before this was kept have none.
   */
  settings?: GrantSettings;
}

export interface GrantSettings {
  provider: 'google' | 'microsoft' | 'generic';
  clientId: string;
  tenant?: string;
  issuer?: string;
}

export function parseGrant(text: string | undefined): OAuthGrant | null {
  if (!text) return null;
  try {
    const g = JSON.parse(text) as OAuthGrant;
    return g && g.v === 1 && typeof g.accessToken === 'string' && typeof g.tokenEndpoint === 'string' ? g : null;
  } catch {
    return null;
  }
}

export const serializeGrant = (g: OAuthGrant): string => JSON.stringify(g);

/** The lower-case scope set, for comparing what was asked with what was granted. */
export const scopeSet = (scope: string): Set<string> => new Set(scope.split(/\s+/).filter(Boolean).map((s) => s.toLowerCase()));

export const SKEW_WORTH_MENTIONING_MS = 5 * 60_000;

/** A hint to add to an authentication failure when this machine's clock is far off the provider's. */
export function clockSkewHint(g: Pick<OAuthGrant, 'clockSkewMs' | 'provider'> | null): string {
  const skew = g?.clockSkewMs ?? 0;
  if (Math.abs(skew) < SKEW_WORTH_MENTIONING_MS) return '';
  const minutes = Math.round(Math.abs(skew) / 60_000);
  return `; this machine's clock is ${minutes} minutes ${skew > 0 ? 'behind' : 'ahead of'} ${g!.provider}'s — servers reject tokens that look expired or not yet valid, so set the clock right`;
}
