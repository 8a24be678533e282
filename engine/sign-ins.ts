// Signing a monitor in with OAuth from its form. The engine runs the whole flow (core/oauth: PKCE, the one-shot
// listener on 127.0.0.1, the token request); the page only opens the address it is given, or shows the device
// code. The grant never travels to the page: from an existing monitor's form it goes straight into that monitor's
// secret (and the monitor restarts on it); from the add form it waits here until `monitors.add` (or a dry run) names
// the sign-in — in memory and in the 0600 secret store, so a restart of the engine meanwhile (the page keeps its form
// and reconnects) does not lose it — and is dropped if nobody does within the hour.
import { randomUUID } from 'node:crypto';
import type { MonitorDefinition } from '../core/monitor.js';
import type { MonitorInfo, SignInStart, SignInState, SignedInInfo, SignOutOutcome } from '../core/protocol.js';
import { OAuthError, ProviderSettingsError, beginSignIn, forgetGrant, grantMismatch, parseGrant, revocationNote, revokeGrant, serializeGrant, type OAuthGrant, type SignIn } from '../core/oauth/index.js';
import { RequestError } from '../core/rpc/server.js';
import type { MonitorEntry } from '../core/config/schema.js';
import type { HandlerHost } from './handlers/host.js';

interface Pending {
  state: SignInState;
  type: string;
  flow: SignIn;
  grant: OAuthGrant | null;
  forget: ReturnType<typeof setTimeout> | null;
}

/** A finished sign-in nobody saved is forgotten after this long. */
const KEEP_FINISHED_MS = 60 * 60_000;
/** A browser sign-in left open (the tab closed, the user gone) gives up after this long and closes its listener. */
const SIGN_IN_TIMEOUT_MS = 10 * 60_000;
/** Each open browser sign-in holds a listener: a page clicking "Sign in" over and over must not pile them up. */
const MAX_OPEN = 8;

/** The grant's owner key in core/oauth's per-process caches (the mail monitor and its email action use the same). */
export const grantKey = (monitorId: string, field: string): string => `${monitorId}:${field}`;

/**
 * Who a monitor is signed in as, from its stored grant; never a token. Undefined for types without OAuth. With the
 * monitor's config, a grant made for other settings (another provider or client id) is a problem: "sign in again".
 */
export function signedInOf(def: MonitorDefinition | undefined, secrets: Readonly<Record<string, string>>, config?: Record<string, unknown>): SignedInInfo | null | undefined {
  if (!def?.oauth) return undefined;
  const g = parseGrant(secrets[def.oauth.grantField]);
  if (!g) return null;
  let mismatch: string | null = null;
  if (config) {
    try {
      mismatch = grantMismatch(g, def.oauth.client(config, secrets));
    } catch {
      mismatch = null; // settings that cannot sign in at all: the form says so at the field
    }
  }
  return { account: g.account, provider: g.provider, problem: g.revoked ?? mismatch, signOutNote: revocationNote(g) };
}

/** A monitor as the protocol shows it: its entry, which secrets are set, its health, and who it is signed in as. */
export function monitorInfoOf(engine: Pick<HandlerHost, 'secrets' | 'definitions' | 'healthOf'>, m: MonitorEntry): MonitorInfo {
  const secrets = engine.secrets.get(m.id);
  const signedIn = signedInOf(engine.definitions.get(m.type), secrets, m.config);
  return { ...m, secretsSet: Object.keys(secrets), health: engine.healthOf(m.id), ...(signedIn !== undefined ? { signedIn } : {}) };
}

/** The secret-store owner under which the add form's finished grants wait, and the list of them with their expiry. */
const WAITING_OWNER = (signInId: string) => `signin:${signInId}`;
const WAITING_INDEX = 'signin-waiting';

export class SignIns {
  private readonly pending = new Map<string, Pending>();

  private purged = false;

  constructor(private readonly engine: HandlerHost) {}

  /** Grants an earlier run left waiting past their hour are forgotten (on first use: the store opens after us). */
  private purgeExpired(): void {
    if (this.purged) return;
    this.purged = true;
    for (const [id, expires] of Object.entries(this.waitingIndex())) if (Number(expires) <= Date.now()) this.dropWaiting(id);
  }

  private waitingIndex(): Record<string, string> {
    return this.engine.secrets.get(WAITING_INDEX);
  }

  /** A finished add-form sign-in, kept until `monitors.add` takes it or its hour is over. */
  private keepWaiting(signInId: string, type: string, grant: OAuthGrant): void {
    this.engine.secrets.set(WAITING_OWNER(signInId), { type, grant: serializeGrant(grant) });
    this.engine.secrets.set(WAITING_INDEX, { [signInId]: String(Date.now() + KEEP_FINISHED_MS) });
  }

  private dropWaiting(signInId: string): void {
    this.engine.secrets.delete(WAITING_OWNER(signInId));
    this.engine.secrets.set(WAITING_INDEX, { [signInId]: null });
  }

  /** A grant an earlier run of the engine kept for this sign-in (the page's form outlived the restart). */
  private waitingFromEarlierRun(signInId: string, type: string): OAuthGrant | null {
    const expires = Number(this.waitingIndex()[signInId] ?? 0);
    const kept = this.engine.secrets.get(WAITING_OWNER(signInId));
    if (expires <= Date.now() || kept.type !== type) return null;
    return parseGrant(kept.grant);
  }

  async start(p: { type: string; config?: Record<string, unknown> | undefined; id?: string | undefined; flow?: 'browser' | 'device' | undefined }): Promise<SignInStart> {
    this.purgeExpired();
    const def = this.engine.definitions.get(p.type);
    if (!def) throw new RequestError('invalid', `unknown monitor type "${p.type}"`);
    const oauth = def.oauth;
    if (!oauth) throw new RequestError('invalid', `${def.title} monitors do not sign in with OAuth`);
    if (p.id && !this.engine.config.current.monitors.some((m) => m.id === p.id && m.type === def.type)) throw new RequestError('not_found', `no ${def.type} monitor "${p.id}"`);
    const secrets = { ...(p.id ? this.engine.secrets.get(p.id) : {}), ...stringsOf(p.config ?? {}, new Set(this.engine.secretFieldsOf(def.type))) };
    const fieldOf = (f: string | undefined) => (f ? (oauth.fields as Record<string, string> | undefined)?.[f] ?? f : undefined);
    let flow: SignIn;
    try {
      flow = await beginSignIn(p.flow ?? 'browser', oauth.client({ ...(p.config ?? {}) }, secrets), { timeoutMs: SIGN_IN_TIMEOUT_MS });
    } catch (err) {
      const field = err instanceof ProviderSettingsError || err instanceof OAuthError ? fieldOf(err.field) : undefined;
      const message = (err as Error).message;
      throw new RequestError(field ? 'invalid' : 'unavailable', message, field ? [{ path: `$.${field}`, message }] : undefined);
    }
    this.closeOldest();
    const signInId = randomUUID();
    const provider = flow.provider;
    const entry: Pending = { type: def.type, flow, grant: null, forget: null, state: { signInId, monitorId: null, status: 'pending', account: null, provider, message: null, field: null } };
    this.pending.set(signInId, entry);
    flow.done.then(
      (grant) => this.finished(entry, p.id ?? null, grant),
      (err: Error) => this.failed(entry, err, fieldOf((err as OAuthError).field) ?? null),
    );
    const prompt = flow.prompt;
    return {
      signInId,
      provider,
      flow: prompt.flow,
      expiresAt: prompt.expiresAt,
      ...(prompt.authorizationUrl ? { authorizationUrl: prompt.authorizationUrl } : {}),
      ...(prompt.userCode ? { userCode: prompt.userCode } : {}),
      ...(prompt.verificationUri ? { verificationUri: prompt.verificationUri } : {}),
      ...(prompt.verificationUriComplete ? { verificationUriComplete: prompt.verificationUriComplete } : {}),
    };
  }

  status(signInId: string): SignInState {
    const e = this.pending.get(signInId);
    if (!e) throw new RequestError('not_found', 'this sign-in is over or unknown; start it again');
    return { ...e.state };
  }

  cancel(signInId: string): boolean {
    const e = this.pending.get(signInId);
    if (!e || e.state.status !== 'pending') return false;
    e.flow.cancel();
    return true;
  }

  /**
   * The grant of a finished sign-in from the add form, as the secret to store with the new monitor; it is handed out
   * once. Refused with a message when the sign-in is unknown, still running or failed.
   */
  take(signInId: string, type: string): Record<string, string> {
    const e = this.pending.get(signInId);
    const def = this.engine.definitions.get(type);
    this.purgeExpired();
    if (!e && def?.oauth) {
      const grant = this.waitingFromEarlierRun(signInId, type);
      if (grant) return { [def.oauth.grantField]: serializeGrant(grant) };
    }
    if (!e || e.type !== type || !def?.oauth) throw new RequestError('invalid', 'the sign-in is over or unknown; sign in again', [{ path: '$.signInId', message: 'sign in again' }]);
    if (e.state.status !== 'done' || !e.grant) throw new RequestError('invalid', e.state.status === 'pending' ? 'the sign-in has not finished yet' : `not signed in: ${e.state.message ?? 'sign in again'}`, [{ path: '$.signInId', message: 'sign in again' }]);
    return { [def.oauth.grantField]: serializeGrant(e.grant) };
  }

  /** After `monitors.add` stored it: the grant now lives in the secret store only. */
  taken(signInId: string, monitorId: string): void {
    this.dropWaiting(signInId);
    const e = this.pending.get(signInId);
    if (!e) return;
    e.grant = null;
    e.state = { ...e.state, monitorId };
  }

  async signOut(id: string): Promise<MonitorInfo & { signedOut: SignOutOutcome }> {
    const m = this.engine.config.current.monitors.find((x) => x.id === id);
    if (!m) throw new RequestError('not_found', `no monitor "${id}"`);
    const field = this.engine.definitions.get(m.type)?.oauth?.grantField;
    if (!field) throw new RequestError('invalid', `${m.type} monitors do not sign in with OAuth`);
    const grant = parseGrant(this.engine.secrets.get(id)[field]);
    // Forgotten here first, whatever the provider says: signing out must not depend on reaching it.
    this.engine.secrets.set(id, { [field]: null });
    forgetGrant(grantKey(id, field));
    await this.engine.restartMonitor(id);
    this.broadcastMonitors();
    const signedOut: SignOutOutcome = grant ? await revokeGrant(grant) : { revoked: false, message: 'was not signed in' };
    return { ...monitorInfoOf(this.engine, m), signedOut };
  }

  /** The engine is closing: no listener stays open. */
  close(): void {
    for (const e of this.pending.values()) {
      if (e.state.status === 'pending') e.flow.cancel();
      if (e.forget) clearTimeout(e.forget);
    }
    this.pending.clear();
  }

  private async finished(e: Pending, monitorId: string | null, grant: OAuthGrant): Promise<void> {
    const def = this.engine.definitions.get(e.type);
    const stillThere = monitorId && this.engine.config.current.monitors.some((m) => m.id === monitorId);
    if (monitorId && stillThere && def?.oauth) {
      this.engine.secrets.set(monitorId, { [def.oauth.grantField]: serializeGrant(grant) });
      // What this process remembered about the old grant (a refusal, a pause after a failure) must not outlive it.
      forgetGrant(grantKey(monitorId, def.oauth.grantField));
      e.state = { ...e.state, monitorId, status: 'done', account: grant.account, signOutNote: revocationNote(grant) };
      try {
        await this.engine.restartMonitor(monitorId);
      } catch (err) {
        e.state = { ...e.state, message: `signed in, but the monitor did not restart: ${(err as Error).message}` };
      }
      this.broadcastMonitors();
    } else if (monitorId) {
      e.state = { ...e.state, status: 'failed', message: 'the monitor was removed while signing in' };
    } else {
      e.grant = grant;
      this.keepWaiting(e.state.signInId, e.type, grant);
      e.state = { ...e.state, status: 'done', account: grant.account, signOutNote: revocationNote(grant) };
    }
    this.settled(e);
  }

  private failed(e: Pending, err: Error, field: string | null): void {
    e.state = { ...e.state, status: 'failed', message: err.message, field };
    this.settled(e);
  }

  private settled(e: Pending): void {
    this.engine.broadcast('signIn', { ...e.state });
    e.forget = setTimeout(() => {
      this.pending.delete(e.state.signInId);
      if (e.grant) this.dropWaiting(e.state.signInId);
    }, KEEP_FINISHED_MS);
    e.forget.unref?.();
  }

  private closeOldest(): void {
    const open = [...this.pending.values()].filter((e) => e.state.status === 'pending');
    for (const e of open.slice(0, Math.max(0, open.length - MAX_OPEN + 1))) e.flow.cancel();
  }

  private broadcastMonitors(): void {
    this.engine.broadcast('monitors', this.engine.config.current.monitors.map((m) => monitorInfoOf(this.engine, m)));
  }
}

/** The form's secret fields that were typed in (empty means "keep the stored one"). */
function stringsOf(config: Record<string, unknown>, names: Set<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) if (names.has(k) && typeof v === 'string' && v !== '') out[k] = v;
  return out;
}
