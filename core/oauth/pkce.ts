// RFC 7636: the code verifier stays in the engine, only its SHA-256 travels through the browser, so a code
// intercepted on the way back (another app on the loopback port, a logged URL) cannot be redeemed.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Pkce {
  verifier: string;
  challenge: string;
  method: 'S256';
}

export function newPkce(): Pkce {
  // 32 random bytes → 43 base64url characters, the shortest verifier §4.1 allows, with 256 bits of entropy.
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url'), method: 'S256' };
}

/** An unguessable `state`, tying the redirect to the sign-in this engine started (RFC 6749 §10.12). */
export function newState(): string {
  return randomBytes(24).toString('base64url');
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
