// How the mail account logs in: a password from the secret store, or an OAuth grant whose access token is kept
// fresh (renewed shortly before it expires, also while connections stay open, so a reconnect never waits on a
// refresh) and whose refused refresh turns into "sign in again" — in health, and once as an event.
import type { MonitorContext } from '../../core/monitor.js';
import { OAuthError, TokenSource, clockSkewHint, grantMismatch, isSignInRequired, parseGrant, refreshDueAt, serializeGrant, type OAuthGrant } from '../../core/oauth/index.js';
import { accountName, oauthClientOf, type MailConfig } from './settings.js';

export type Login = { user: string; pass: string } | { user: string; accessToken: string };

/** How long to wait before trying to renew again after the provider could not be reached. */
const RENEW_RETRY_MS = 60_000;
const SIGNIN_EVENT_KEY = 'signinRequiredFor';

export class MailCredentials {
  private grantText: string | undefined;
  private readonly source: TokenSource | null;
  private cancelRenewal: (() => void) | null = null;
  /** Set after the server refused a token we thought good: the next login refreshes first. */
  private forceRefresh = false;
  /** The grant whose "sign in again" event this instance has emitted (or is emitting). */
  private announced: string | null = null;

  constructor(private readonly ctx: MonitorContext<MailConfig>) {
    this.grantText = ctx.secrets.oauthGrant;
    this.source =
      ctx.config.auth === 'oauth2'
        ? new TokenSource({
            key: `${ctx.dryRun ? 'dry-run:' : ''}${ctx.id}:oauthGrant`,
            load: () => parseGrant(this.grantText),
            save: (g) => {
              this.grantText = serializeGrant(g);
              ctx.saveSecrets?.({ oauthGrant: this.grantText });
            },
            signal: ctx.signal,
          })
        : null;
  }

  get usesOAuth(): boolean {
    return this.source !== null;
  }

  grant(): OAuthGrant | null {
    return this.source?.current() ?? parseGrant(this.grantText);
  }

  /** The address events name as the account. */
  account(): string {
    return accountName(this.ctx.config, this.grant()?.account);
  }

  user(): string {
    return this.ctx.config.username || this.grant()?.account || '';
  }

  /** What to log in with now; with OAuth a token good for a while yet. Throws OAuthError "sign in again". */
  async login(): Promise<Login> {
    if (!this.source) return { user: this.ctx.config.username ?? '', pass: this.ctx.secrets.password ?? '' };
    if (!this.grant()) throw new OAuthError('signin-required', 'not signed in yet: open this monitor and press "Sign in"');
    try {
      const mismatch = this.mismatch();
      if (mismatch) throw new OAuthError('signin-required', mismatch);
      const force = this.forceRefresh;
      this.forceRefresh = false;
      const t = await this.source.get(force);
      if (!this.user()) throw new OAuthError('signin-required', 'the provider did not say which address signed in: fill in the user name');
      return { user: this.user(), accessToken: t.token };
    } catch (err) {
      if (isSignInRequired(err)) await this.signInRequired(err);
      throw err;
    }
  }

  /**
   * Why the stored grant does not fit the settings (the provider or client id changed since it was made), or null.
   * Such a grant is neither sent to the server nor refreshed: it belongs to another app, or another place.
   */
  private mismatch(): string | null {
    const g = this.grant();
    if (!g) return null;
    try {
      return grantMismatch(g, oauthClientOf(this.ctx.config as unknown as Record<string, unknown>, this.ctx.secrets));
    } catch {
      return null; // settings that cannot sign in: the config check names the field
    }
  }

  /** The server refused a token: refresh before the next login (a revoked grant shows up there). */
  tokenRefused(): void {
    if (this.source) this.forceRefresh = true;
  }

  /** True when the next login refreshes first: worth trying again soon, once. */
  refreshPending(): boolean {
    return this.forceRefresh;
  }

  /** Words to add to an authentication failure: the clock, the account the token is for. */
  authHint(): string {
    if (!this.source) return '';
    const g = this.grant();
    const skew = clockSkewHint(g);
    const mismatch = g?.account && this.ctx.config.username && g.account.toLowerCase() !== this.ctx.config.username.toLowerCase() ? `; signed in as ${g.account}, but the user name is ${this.ctx.config.username}` : '';
    return `${skew}${mismatch}${skew || mismatch ? '' : '; the server refused the sign-in token — is IMAP enabled for this account?'}`;
  }

  /** Renew the token before it expires, for as long as the monitor runs. */
  keepFresh(): void {
    if (!this.source || this.ctx.dryRun) return;
    const g = this.grant();
    if (!g || g.revoked || this.mismatch()) return;
    this.schedule(Math.max(1_000, refreshDueAt(g) - Date.now()));
  }

  stop(): void {
    this.cancelRenewal?.();
    this.cancelRenewal = null;
  }

  private schedule(ms: number): void {
    this.cancelRenewal?.();
    this.cancelRenewal = this.ctx.setTimeout(() => {
      this.source!.get().then(
        () => this.keepFresh(),
        (err) => {
          if (isSignInRequired(err)) {
            void this.signInRequired(err);
            this.ctx.health.failing(err);
            return;
          }
          this.ctx.log.warn(`could not renew the sign-in yet: ${(err as Error).message}`);
          this.schedule(Math.max(RENEW_RETRY_MS, (err as OAuthError).retryAfterMs ?? 0));
        },
      );
    }, ms);
  }

  /** Once per grant: an event saying the account needs a new sign-in (health says it too, for as long as it lasts). */
  private async signInRequired(err: OAuthError): Promise<void> {
    if (this.ctx.dryRun) return;
    const g = this.grant();
    const marker = g ? `${g.obtainedAt}` : 'none';
    // Checked and set before the emit is awaited: a login and the renewal timer can both find the grant refused at
    // once, and the state is only written with the event.
    if (this.ctx.state.get<string>(SIGNIN_EVENT_KEY) === marker || this.announced === marker) return;
    this.announced = marker;
    const account = this.account();
    await this.ctx.emit(
      {
        type: 'mail.signin_required',
        title: `${account}: sign in again`,
        body: err.message,
        fields: { account, provider: g?.provider ?? null, reason: err.message },
        tags: ['mail', 'attention'],
      },
      { state: { [SIGNIN_EVENT_KEY]: marker } },
    );
  }
}
