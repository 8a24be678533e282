// Where to sign in: presets for Google and Microsoft (their documented endpoints and the scopes mail needs), and
// any other provider by its issuer URL, whose endpoints come from its discovery document (OpenID Connect Discovery,
// or RFC 8414's oauth-authorization-server document for plain OAuth servers).
import { boundedFetch } from '../../base/http.js';
import type { GrantSettings, OAuthGrant } from './grant.js';

export type ProviderKind = 'google' | 'microsoft' | 'generic';

/** What a plug-in asks for: who the user signs in with, as which app, and for what. */
export interface OAuthClientSettings {
  provider: ProviderKind;
  clientId: string;
  /** Google's "Desktop app" clients come with a secret that is not secret; most public clients have none. */
  clientSecret?: string;
  /** Microsoft: "common", "organizations", "consumers" or a tenant id (default "common"). */
  tenant?: string;
  /** Generic: the issuer URL, e.g. https://auth.example.org/realms/home. */
  issuer?: string;
  /** Scopes; offline_access / openid are added where the provider needs them for a refresh token and the address. */
  scopes: string[];
}

export interface ProviderEndpoints {
  name: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  deviceAuthorizationEndpoint?: string;
  /** RFC 7009 token revocation, used when signing out; Microsoft's identity platform offers none. */
  revocationEndpoint?: string;
  /** The host the loopback redirect names: Microsoft matches `http://localhost` on any port, RFC 8252 prefers the IP. */
  redirectHost: '127.0.0.1' | 'localhost';
  /** Extra authorization parameters the provider needs to hand out a refresh token. */
  authorizationParams?: Record<string, string>;
}

export const GOOGLE_MAIL_SCOPE = 'https://mail.google.com/';
export const MICROSOFT_IMAP_SCOPES = ['https://outlook.office.com/IMAP.AccessAsUser.All', 'https://outlook.office.com/SMTP.Send'];
export const MICROSOFT_GRAPH_MAIL_SCOPE = 'https://graph.microsoft.com/Mail.Read';

const TENANT = /^[A-Za-z0-9.-]{1,100}$/;

/** Where the presets' endpoints live: Google's two hosts, Microsoft's identity platform. */
const PRESET_ORIGINS = { googleAccounts: 'https://accounts.google.com', googleApis: 'https://oauth2.googleapis.com', microsoft: 'https://login.microsoftonline.com' };
let presetOrigins = { ...PRESET_ORIGINS, ...presetOriginsFromEnv(process.env.PANOPTES_TEST_OAUTH_PRESET_ORIGINS) };

/**
 * Tests only, for a separate process (the e2e tests' agent, which `presetOriginsForTests` cannot reach):
 * `PANOPTES_TEST_OAUTH_PRESET_ORIGINS="google=http://127.0.0.1:4001 microsoft=http://127.0.0.1:4002"` serves the
 * presets from local servers in those providers' shapes. Safe to leave in production builds because it is refused
 * unless every origin is a loopback address: it can only send a sign-in to a process on this same machine, and
 * whoever can set the agent's environment can already run code as the agent (NODE_OPTIONS), so it grants nothing new;
 * a remote server can never be named. Anything else in it is refused as a whole, and said so on stderr.
 */
export function presetOriginsFromEnv(value: string | undefined, warn: (line: string) => void = (l) => process.stderr.write(l + '\n')): Partial<typeof PRESET_ORIGINS> {
  if (!value?.trim()) return {};
  const out: Partial<typeof PRESET_ORIGINS> = {};
  for (const part of value.trim().split(/[\s,]+/)) {
    const m = /^(google|microsoft)=(.+)$/.exec(part);
    let url: URL | null = null;
    try {
      url = m ? new URL(m[2]!) : null;
    } catch {
      url = null;
    }
    if (!m || !url || !/^https?:$/.test(url.protocol) || !isLoopbackHost(url.hostname) || url.origin !== m[2]!.replace(/\/+$/, '')) {
      warn(`PANOPTES_TEST_OAUTH_PRESET_ORIGINS ignored: "${part}" is not google=… or microsoft=… with a loopback origin (http://127.0.0.1:PORT)`);
      return {};
    }
    if (m[1] === 'google') out.googleAccounts = out.googleApis = url.origin;
    else out.microsoft = url.origin;
  }
  warn(`PANOPTES_TEST_OAUTH_PRESET_ORIGINS: the ${out.microsoft && out.googleApis ? 'Google and Microsoft presets sign in' : out.microsoft ? 'Microsoft preset signs in' : 'Google preset signs in'} at a test server on this machine`);
  return out;
}

/**
 * Tests only: serve the Google / Microsoft presets from local servers that answer in those providers' documented
 * shapes (same paths, same answers), so the presets themselves are what is tested. Returns the undo.
 */
export function presetOriginsForTests(origins: { google?: string; microsoft?: string }): () => void {
  presetOrigins = {
    googleAccounts: origins.google ?? PRESET_ORIGINS.googleAccounts,
    googleApis: origins.google ?? PRESET_ORIGINS.googleApis,
    microsoft: origins.microsoft ?? PRESET_ORIGINS.microsoft,
  };
  return () => void (presetOrigins = { ...PRESET_ORIGINS });
}

export class ProviderSettingsError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
    this.name = 'ProviderSettingsError';
  }
}

/** Resolve a preset or discover a generic provider. Errors name the settings field that is wrong. */
export async function resolveProvider(s: OAuthClientSettings, signal?: AbortSignal): Promise<ProviderEndpoints> {
  if (!s.clientId?.trim()) throw new ProviderSettingsError('clientId', 'a client id is needed: register an app with the provider (see the README) and paste its client id');
  switch (s.provider) {
    case 'google':
      return {
        name: 'Google',
        authorizationEndpoint: `${presetOrigins.googleAccounts}/o/oauth2/v2/auth`,
        tokenEndpoint: `${presetOrigins.googleApis}/token`,
        deviceAuthorizationEndpoint: `${presetOrigins.googleApis}/device/code`,
        revocationEndpoint: `${presetOrigins.googleApis}/revoke`,
        redirectHost: '127.0.0.1',
        // Google hands out a refresh token only with offline access, and again only on a fresh consent.
        authorizationParams: { access_type: 'offline', prompt: 'consent' },
      };
    case 'microsoft': {
      const tenant = s.tenant?.trim() || 'common';
      if (!TENANT.test(tenant)) throw new ProviderSettingsError('tenant', `"${tenant}" is not a tenant: use common, organizations, consumers, a tenant id or a domain`);
      const base = `${presetOrigins.microsoft}/${tenant}/oauth2/v2.0`;
      return { name: 'Microsoft', authorizationEndpoint: `${base}/authorize`, tokenEndpoint: `${base}/token`, deviceAuthorizationEndpoint: `${base}/devicecode`, redirectHost: 'localhost' };
    }
    case 'generic':
      return discover(s.issuer ?? '', signal);
  }
}

/** What a grant made with these settings records of them (tenant and issuer as they resolve, so "" and "common" match). */
export function grantSettingsOf(s: OAuthClientSettings): GrantSettings {
  return {
    provider: s.provider,
    clientId: s.clientId.trim(),
    ...(s.provider === 'microsoft' ? { tenant: (s.tenant?.trim() || 'common').toLowerCase() } : {}),
    ...(s.provider === 'generic' ? { issuer: (s.issuer ?? '').trim().replace(/\/+$/, '') } : {}),
  };
}

const PROVIDER_NAMES: Record<ProviderKind, string> = { google: 'Google', microsoft: 'Microsoft', generic: 'another provider' };

/**
 * Why a stored grant does not fit the monitor's settings any more ("sign in again: …"), or null when it does. A grant
 * from before the settings were recorded is checked by its client id alone.
 */
export function grantMismatch(g: Pick<OAuthGrant, 'clientId' | 'settings' | 'provider'>, s: OAuthClientSettings): string | null {
  const now = grantSettingsOf(s);
  const was = g.settings;
  if (was && was.provider !== now.provider) return `sign in again: the provider was changed to ${PROVIDER_NAMES[now.provider]} after signing in with ${g.provider}`;
  if ((was?.clientId ?? g.clientId) !== now.clientId) return 'sign in again: the client id was changed after signing in';
  if (was && (was.tenant ?? '') !== (now.tenant ?? '')) return `sign in again: the Microsoft tenant was changed after signing in (from ${was.tenant})`;
  if (was && (was.issuer ?? '') !== (now.issuer ?? '')) return `sign in again: the issuer URL was changed after signing in with ${g.provider}`;
  return null;
}

/** Scopes as sent: the plug-in's, plus what makes a refresh token and the signed-in address come back. */
export function requestedScopes(s: OAuthClientSettings): string[] {
  const extra = s.provider === 'google' ? ['openid', 'email'] : ['openid', 'email', 'offline_access'];
  return [...new Set([...s.scopes, ...extra])];
}

interface DiscoveryDocument {
  issuer?: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  device_authorization_endpoint?: string;
  revocation_endpoint?: string;
}

export async function discover(issuer: string, signal?: AbortSignal): Promise<ProviderEndpoints> {
  let base: URL;
  try {
    base = new URL(issuer.trim());
  } catch {
    throw new ProviderSettingsError('issuer', `"${issuer}" is not a URL; give the provider's issuer, e.g. https://auth.example.org/realms/home`);
  }
  if (base.protocol !== 'https:' && !isLoopbackHost(base.hostname)) throw new ProviderSettingsError('issuer', 'the issuer must be https:// (plain http only for a server on this machine)');
  const root = base.href.replace(/\/+$/, '');
  const candidates = [`${root}/.well-known/openid-configuration`, `${base.origin}/.well-known/oauth-authorization-server${base.pathname.replace(/\/+$/, '')}`];
  const problems: string[] = [];
  for (const url of candidates) {
    let doc: DiscoveryDocument;
    try {
      const res = await boundedFetch(url, { timeoutMs: 15_000, maxBytes: 256 * 1024, headers: { accept: 'application/json' } }, signal);
      if (!res.ok) {
        problems.push(`${url}: HTTP ${res.status}`);
        continue;
      }
      doc = JSON.parse(res.body.toString('utf8')) as DiscoveryDocument;
    } catch (err) {
      problems.push(`${url}: ${(err as Error).message}`);
      continue;
    }
    if (!doc.authorization_endpoint || !doc.token_endpoint) {
      problems.push(`${url}: no authorization_endpoint/token_endpoint`);
      continue;
    }
    // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
    if (doc.issuer && doc.issuer.replace(/\/+$/, '') !== root) throw new ProviderSettingsError('issuer', `the discovery document at ${url} belongs to issuer ${doc.issuer}, not ${root}`);
    for (const [k, v] of Object.entries({ authorization_endpoint: doc.authorization_endpoint, token_endpoint: doc.token_endpoint, device_authorization_endpoint: doc.device_authorization_endpoint, revocation_endpoint: doc.revocation_endpoint })) {
      if (v && !/^https:\/\//.test(v) && !isLoopbackHost(safeHost(v))) throw new ProviderSettingsError('issuer', `the provider's ${k} is not https: ${v}`);
    }
    return {
      name: base.host,
      authorizationEndpoint: doc.authorization_endpoint,
      tokenEndpoint: doc.token_endpoint,
      ...(doc.device_authorization_endpoint ? { deviceAuthorizationEndpoint: doc.device_authorization_endpoint } : {}),
      ...(doc.revocation_endpoint ? { revocationEndpoint: doc.revocation_endpoint } : {}),
      redirectHost: '127.0.0.1',
    };
  }
  throw new ProviderSettingsError('issuer', `no OAuth discovery document found for ${root} (${problems.join('; ')})`);
}

function safeHost(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

export function isLoopbackHost(host: string): boolean {
  return /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\]|::1)$/i.test(host);
}
