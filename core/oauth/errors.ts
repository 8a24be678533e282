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

/** What providers add to an error answer beyond RFC 6749's error and error_description. */
export interface ProviderErrorDetail {
  /** Microsoft: what the user has to do (consent_required, basic_action, bad_token…). */
  suberror?: string;
  /** Microsoft: the AADSTS numbers (error_codes). */
  errorCodes?: number[];
  /** Google: error_subtype (invalid_rapt: the Workspace asks for re-authentication). */
  subtype?: string;
}

/** Microsoft ends every description with trace and correlation ids and a timestamp: noise to a user. */
export function cleanDescription(d: string): string {
  return d.replace(/\s*Trace ID:[\s\S]*$/i, '').replace(/\s+/g, ' ').trim();
}

/** Microsoft's AADSTS number, from error_codes or the description's "AADSTS65001:" prefix. */
function aadstsOf(description: string | undefined, detail: ProviderErrorDetail): number | undefined {
  const n = detail.errorCodes?.[0] ?? Number(/AADSTS(\d+)/.exec(description ?? '')?.[1]);
  return Number.isFinite(n) && n ? n : undefined;
}

const INTERACTION_SUBERRORS = new Set(['basic_action', 'additional_action', 'message_only', 'user_password_expired']);

/**
 * RFC 6749 §5.2 / §4.1.2.1 and RFC 8628 §3.5 error codes in words, with what Google and Microsoft add to them
 * (their own codes, Microsoft's suberror and AADSTS numbers) where that tells the user what to do. `provider` is the
 * name shown ("Google"). The provider's own description is kept (shortened, without trace ids).
 */
export function describeProviderError(provider: string, code: string, description: string | undefined, during: 'authorize' | 'token' | 'refresh' | 'device', detail: ProviderErrorDetail = {}): OAuthError {
  const clean = description ? cleanDescription(description) : '';
  const said = clean ? ` (${provider}: ${clean.slice(0, 300)})` : '';
  const refresh = during === 'refresh';
  // A refused refresh ends the grant ("sign in again"); refused during a sign-in, that sign-in is over.
  const over = refresh ? 'signin-required' : 'declined';
  const again = refresh ? 'sign in again: ' : '';
  const aadsts = aadstsOf(description, detail);

  // Microsoft: nobody consented to the app for this account (the user may not, in many organisations).
  if (code === 'consent_required' || detail.suberror === 'consent_required' || aadsts === 65001 || aadsts === 90094 || aadsts === 90095) {
    return new OAuthError(over, `${again}Your organisation's admin must approve Panoptes (Microsoft Entra admin center → Enterprise applications → Panoptes → Permissions → Grant admin consent), or you accept its permissions yourself when you sign in${refresh ? ' again' : ''}; ${provider} says no one has consented to Panoptes reading this mailbox${said}`, { code: 'consent_required' });
  }
  // Microsoft: multi-factor authentication, new terms, a changed password — things only the user can do, in a browser.
  if (code === 'interaction_required' || (detail.suberror && INTERACTION_SUBERRORS.has(detail.suberror)) || aadsts === 50076 || aadsts === 50079) {
    return new OAuthError(over, `${again}${provider} wants you to sign in yourself once more: your organisation asks for a check Panoptes cannot do on its own (multi-factor authentication, new terms of use, a password change)${said}`, { code: 'interaction_required' });
  }
  // Microsoft: conditional access (53000–53004: device not managed or compliant, place not allowed, blocked).
  if (aadsts !== undefined && aadsts >= 53000 && aadsts <= 53004) {
    return new OAuthError(over, `${again}your organisation's conditional access policy blocks this sign-in (for example: only from managed devices, or from certain places); ask your admin to allow Panoptes${said}`, { code });
  }
  if (aadsts === 700082) {
    return new OAuthError(over, `${again}the sign-in went unused for too long and ${provider} ended it (after 90 days inactive)${said}`, { code });
  }
  // Microsoft: an app registration without "Allow public client flows" wants a secret Panoptes does not have.
  if (aadsts === 7000218) {
    return new OAuthError('client', `${provider} wants a client secret from this app: in its app registration, under Authentication, set "Allow public client flows" to Yes (Panoptes signs in as a public client)${said}`, { code, field: 'clientId' });
  }
  if (aadsts === 700016) {
    return new OAuthError('client', `${provider} does not know this client id in this directory: check the client id, and that the app registration accepts accounts of your organisation (or use tenant "common")${said}`, { code, field: 'clientId' });
  }
  const google = provider === 'Google';
  switch (code) {
    case 'invalid_client':
    case 'unauthorized_client':
      return new OAuthError('client', `${provider} does not accept this app: check the client id (and client secret, if the app has one)${said}`, { code, field: 'clientId' });
    case 'deleted_client':
      return new OAuthError('client', `the app with this client id was deleted at ${provider}: register it again and paste the new client id${said}`, { code, field: 'clientId' });
    case 'org_internal':
      return new OAuthError('client', `this app only takes accounts of its own ${provider} organisation (its consent screen's user type is "Internal"): sign in with such an account, or set the app's user type to External${said}`, { code, field: 'clientId' });
    case 'admin_policy_enforced':
      return new OAuthError(over, `${again}your Google Workspace admin does not allow Panoptes to reach this account (Admin console → Security → API controls): ask them to trust the app${said}`, { code });
    case 'access_denied':
    case 'authorization_declined':
      return new OAuthError('declined', `access was declined at ${provider}; sign in again and allow Panoptes to read your mail${said}`, { code });
    case 'expired_token':
      return new OAuthError('declined', `the sign-in code expired before it was entered; start the sign-in again${said}`, { code });
    case 'bad_verification_code':
      return new OAuthError('declined', `${provider} did not recognise the sign-in code (it may have been used already); start the sign-in again${said}`, { code });
    case 'invalid_scope':
      if (google && during === 'device') {
        return new OAuthError('scope', `Google's sign-in with a code does not give access to mail (Google allows only a few permissions there): use "Sign in with Google" in a browser instead${said}`, { code });
      }
      return new OAuthError('scope', `${provider} refused the requested permissions for this app: in the app registration, allow the mail permissions the README lists${said}`, { code, field: 'clientId' });
    case 'invalid_grant':
      if (!refresh) return new OAuthError('declined', `${provider} did not accept the sign-in code (it may have been used or expired); start the sign-in again${said}`, { code });
      if (google && detail.subtype === 'invalid_rapt') return new OAuthError('signin-required', `sign in again: your Google Workspace asks you to confirm your sign-in from time to time (its re-authentication policy)${said}`, { code });
      return new OAuthError(
        'signin-required',
        `sign in again: ${provider} no longer accepts this account's sign-in (it was revoked, expired, or the password changed)${said}${google ? '; if the app\'s OAuth consent screen is still in "Testing", Google ends its sign-ins after 7 days — publish the app to keep them' : ''}`,
        { code },
      );
    case 'temporarily_unavailable':
    case 'server_error':
      return new OAuthError('transient', `${provider} is having trouble right now${said}`, { code });
    case 'invalid_request':
      return new OAuthError('client', `${provider} refused the request: check the app registration (redirect URI, public client / device flow allowed)${said}`, { code, field: 'clientId' });
    default:
      return new OAuthError('protocol', `${provider} answered "${code}"${said}`, { code });
  }
}
