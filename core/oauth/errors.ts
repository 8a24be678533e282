// What can go wrong when signing in or refreshing, as errors a user can act on. `field` names the settings field
// to show the message at (clientId, issuer, tenant…); `kind` tells the caller whether trying again can help.
export type OAuthFailureKind =
  /** The provider refused this app (unknown client id, wrong secret, redirect not registered): fix the settings. */
  | 'client'
  /** The user said no, or the code expired: sign in again. */
  | 'declined'
  /** The refresh token no longer works (revoked, password changed, expired): sign in again. */
  | 'signin-required'
  /** The sign-in worked but without access to what the monitor needs. */
  | 'scope'
  /** Network trouble, 5xx, throttling: later will do. */
  | 'transient'
  /** The provider answered something that is not OAuth. */
  | 'protocol';

export class OAuthError extends Error {
  /** The RFC error code (invalid_grant, access_denied…) when the provider gave one. */
  code: string | undefined;
  /** The settings field to show the message at. */
  readonly field: string | undefined;
  /** How long the provider asked to wait (429/503 Retry-After). */
  readonly retryAfterMs: number | undefined;
  constructor(
    readonly kind: OAuthFailureKind,
    message: string,
    opts: { code?: string; field?: string; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = 'OAuthError';
    this.code = opts.code;
    this.field = opts.field;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

export const isSignInRequired = (err: unknown): err is OAuthError => err instanceof OAuthError && err.kind === 'signin-required';

/**
 * RFC 6749 §5.2 / §4.1.2.1 and RFC 8628 §3.5 error codes in words. `provider` is the name shown ("Google").
 * The provider's own description is kept (shortened): it often says exactly what is wrong (AADSTS codes).
 */
export function describeProviderError(provider: string, code: string, description: string | undefined, during: 'authorize' | 'token' | 'refresh' | 'device'): OAuthError {
  const said = description ? ` (${provider}: ${description.replace(/\s+/g, ' ').slice(0, 300)})` : '';
  switch (code) {
    case 'invalid_client':
    case 'unauthorized_client':
      return new OAuthError('client', `${provider} does not accept this app: check the client id (and client secret, if the app has one)${said}`, { code, field: 'clientId' });
    case 'access_denied':
      return new OAuthError('declined', `access was declined at ${provider}; sign in again and allow Panoptes to read your mail${said}`, { code });
    case 'expired_token':
      return new OAuthError('declined', `the sign-in code expired before it was entered; start the sign-in again${said}`, { code });
    case 'invalid_scope':
      return new OAuthError('scope', `${provider} refused the requested permissions for this app: in the app registration, allow the mail permissions the README lists${said}`, { code, field: 'clientId' });
    case 'invalid_grant':
      return during === 'refresh'
        ? new OAuthError('signin-required', `sign in again: ${provider} no longer accepts this account's sign-in (it was revoked, expired, or the password changed)${said}`, { code })
        : new OAuthError('declined', `${provider} did not accept the sign-in code (it may have been used or expired); start the sign-in again${said}`, { code });
    case 'temporarily_unavailable':
    case 'server_error':
      return new OAuthError('transient', `${provider} is having trouble right now${said}`, { code });
    case 'invalid_request':
      return new OAuthError('client', `${provider} refused the request: check the app registration (redirect URI, public client / device flow allowed)${said}`, { code, field: 'clientId' });
    default:
      return new OAuthError('protocol', `${provider} answered "${code}"${said}`, { code });
  }
}
