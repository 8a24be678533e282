// A mail account that signs in with OAuth, for the sign-in tests (CLI, monitor, sign-out, the CLI's race with an
// agent): a local authorization server (oauth-server.ts, the generic provider) for one user, and a real Dovecot
// that takes that server's access tokens through its oauth2 passdb (token introspection), no password of its own.
import { after, before } from 'node:test';
import { startDovecot, type DovecotServer } from './dovecot.js';
import { startOAuthServer, type OAuthTestServer } from './oauth-server.js';

export interface OAuthMail {
  auth: OAuthTestServer;
  dovecot: DovecotServer;
  /** A mail monitor's config for the account: plain IMAP on loopback, generic OAuth at `auth`; `extra` on top. */
  config(extra?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startOAuthMail(user: string): Promise<OAuthMail> {
  const auth = await startOAuthServer({ user: { username: user, email: user } });
  let dovecot: DovecotServer;
  try {
    dovecot = await startDovecot({ [user]: 'not-used-by-oauth' }, { oauth2: { introspectionUrl: auth.server.url('/introspect') } });
  } catch (err) {
    await auth.close();
    throw err;
  }
  return {
    auth,
    dovecot,
    config: (extra = {}) => ({
      host: '127.0.0.1',
      port: dovecot.port,
      security: 'plain',
      auth: 'oauth2',
      oauthProvider: 'generic',
      oauthIssuer: auth.issuer,
      oauthClientId: auth.clientId,
      keepalive: '5s',
      ...extra,
    }),
    close: async () => {
      await dovecot.close();
      await auth.close();
    },
  };
}

/** The account for the whole file: started before its first test, closed after its last. */
export function oauthMailAccount(user: string): Omit<OAuthMail, 'close'> {
  let m: OAuthMail | undefined;
  before(async () => {
    m = await startOAuthMail(user);
  });
  after(() => m?.close());
  return {
    get auth() {
      return m!.auth;
    },
    get dovecot() {
      return m!.dovecot;
    },
    config: (extra) => m!.config(extra),
  };
}
