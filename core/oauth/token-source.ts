// A fresh access token whenever one is needed: refreshed shortly before it expires (RFC 6749 §6), one refresh
// at a time per account however many connections ask, a rotated refresh token saved at once, a refused one
// (invalid_grant) remembered so it is never sent again — and after a network failure the endpoint is left alone
// for a while, so many folders reconnecting cannot turn into a storm of refreshes.
import { OAuthError } from './errors.js';
import { grantFromResponse, postForm } from './token-endpoint.js';
import { serializeGrant, parseGrant, type OAuthGrant } from './grant.js';

export interface TokenSourceOptions {
  /** One key per stored grant (the secret store owner): refreshes with the same key are shared. */
  key: string;
  load(): OAuthGrant | null;
  save(grant: OAuthGrant): void;
  now?: () => number;
  signal?: AbortSignal;
}

export interface AccessToken {
  token: string;
  account: string | null;
  grant: OAuthGrant;
}

/** Refresh when this little of the token's life is left: 5 minutes, or a quarter of short lifetimes. */
export function refreshMarginMs(g: Pick<OAuthGrant, 'expiresAt' | 'obtainedAt'>): number {
  return Math.min(5 * 60_000, Math.max(0, (g.expiresAt - g.obtainedAt) / 4));
}

/** When the token should be renewed (ms since epoch). */
export const refreshDueAt = (g: Pick<OAuthGrant, 'expiresAt' | 'obtainedAt'>): number => g.expiresAt - refreshMarginMs(g);

const inflight = new Map<string, Promise<OAuthGrant>>();
/**
 * The newest grant saved under each key in this process. The monitor and the email action of one account each
 * hold a copy; when one refreshes (and the provider rotates the refresh token) the other must not send the spent
 * token, which the provider would answer with invalid_grant as if access had been revoked.
 */
const newest = new Map<string, OAuthGrant>();
const newer = (a: OAuthGrant | null, b: OAuthGrant | undefined): OAuthGrant | null => (b && (!a || b.obtainedAt > a.obtainedAt || (b.revoked && !a.revoked && b.obtainedAt === a.obtainedAt)) ? b : a);
/** After a transient failure, no new attempt before this time (per key). */
const quietUntil = new Map<string, { until: number; error: OAuthError }>();
const MIN_QUIET_MS = 10_000;

export class TokenSource {
  private readonly now: () => number;
  constructor(private readonly opts: TokenSourceOptions) {
    this.now = opts.now ?? Date.now;
  }

  current(): OAuthGrant | null {
    return newer(this.opts.load(), newest.get(this.opts.key));
  }

  private save(g: OAuthGrant): void {
    newest.set(this.opts.key, g);
    this.opts.save(g);
  }

  /** A token good for at least the refresh margin; refreshes first if needed. */
  async get(force = false): Promise<AccessToken> {
    const g = this.current();
    if (!g) throw new OAuthError('signin-required', 'sign in again: no sign-in is stored for this account');
    if (g.revoked) throw new OAuthError('signin-required', g.revoked, { code: 'invalid_grant' });
    if (!force && this.now() < refreshDueAt(g)) return { token: g.accessToken, account: g.account, grant: g };
    const fresh = await this.refresh(g);
    return { token: fresh.accessToken, account: fresh.account, grant: fresh };
  }

  private refresh(g: OAuthGrant): Promise<OAuthGrant> {
    const key = this.opts.key;
    const running = inflight.get(key);
    if (running) return running;
    const quiet = quietUntil.get(key);
    if (quiet && this.now() < quiet.until) {
      // Still usable? Then use it rather than fail: the failure only matters once it really expires.
      if (this.now() < g.expiresAt) return Promise.resolve(g);
      return Promise.reject(quiet.error);
    }
    const p = this.doRefresh(g).finally(() => inflight.delete(key));
    inflight.set(key, p);
    return p;
  }

  private async doRefresh(g: OAuthGrant): Promise<OAuthGrant> {
    const key = this.opts.key;
    if (!g.refreshToken) {
      const revoked = `sign in again: ${g.provider} gave no refresh token, so the sign-in ends when the access token expires`;
      this.save({ ...g, revoked });
      throw new OAuthError('signin-required', revoked);
    }
    const r = await postForm(g.provider, g.tokenEndpoint, { grant_type: 'refresh_token', refresh_token: g.refreshToken, client_id: g.clientId, client_secret: g.clientSecret }, 'refresh', this.opts.signal, this.now);
    if (!r.ok) {
      if (r.error.kind === 'signin-required' || r.error.kind === 'client') {
        // Remembered with the grant: after a restart the refused token is not sent again either.
        this.save({ ...g, revoked: r.error.kind === 'client' ? `sign in again: ${r.error.message}` : r.error.message });
        throw new OAuthError('signin-required', r.error.kind === 'client' ? `sign in again: ${r.error.message}` : r.error.message, { code: r.error.code ?? 'invalid_grant' });
      }
      const wait = Math.max(MIN_QUIET_MS, r.error.retryAfterMs ?? 0);
      quietUntil.set(key, { until: this.now() + wait, error: r.error });
      if (this.now() < g.expiresAt) return g;
      throw r.error;
    }
    quietUntil.delete(key);
    const fresh = grantFromResponse(g, r.body, g.scope, r.skewMs, g, this.now);
    this.save(fresh);
    return fresh;
  }
}

/** A TokenSource over one secret field of a secret owner (the action path: no monitor context, the store itself). */
export function tokenSourceFor(key: string, read: () => string | undefined, write: (json: string) => void, now?: () => number): TokenSource {
  return new TokenSource({ key, load: () => parseGrant(read()), save: (g) => write(serializeGrant(g)), ...(now ? { now } : {}) });
}

/** Forget transient-failure pauses (tests; a user's "Check now" could use it too). */
export function resetRefreshPauses(): void {
  quietUntil.clear();
}

/** Forget what this process knows about a key's grant (a new sign-in replaced it). */
export function forgetGrant(key: string): void {
  newest.delete(key);
  quietUntil.delete(key);
}
