// Which addresses a page from elsewhere may not make the browser reach: loopback, private, link-local and
// unique-local ones (this machine and the home network). One rule for the whole rendered fetch — the check of the
// watched address, and the checking proxy every request of the browser goes through (checking-proxy.ts) — so the
// two can never disagree.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** How names resolve and which addresses count as private. The real one is `systemAddressPolicy`. */
export interface AddressPolicy {
  /** Every address the name resolves to (throws when it does not resolve). */
  lookup(hostname: string): Promise<string[]>;
  isPrivateAddress(address: string): boolean;
}

export const systemAddressPolicy: AddressPolicy = {
  lookup: async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address),
  isPrivateAddress,
};

let testPolicy: AddressPolicy | null = null;

/**
 * Tests only: a page served by the test harness on this machine can only be made to count as "public" by naming
 * which of its addresses count as public (and how its names resolve). Everything else — the proxy, the checks — runs
 * as in use. `null` restores the system's.
 */
export function setAddressPolicyForTests(policy: AddressPolicy | null): void {
  testPolicy = policy;
}

export function currentAddressPolicy(): AddressPolicy {
  return testPolicy ?? systemAddressPolicy;
}

/** The addresses a host (a name or an address, IPv6 in brackets or not) stands for; [] when it does not resolve. */
export async function resolveHost(hostname: string, policy: AddressPolicy = currentAddressPolicy()): Promise<string[]> {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return [host];
  try {
    return await policy.lookup(host);
  } catch {
    return [];
  }
}

/** Loopback, private, link-local and unique-local addresses (and names that resolve to one). */
export async function isPrivateHost(hostname: string, policy: AddressPolicy = currentAddressPolicy()): Promise<boolean> {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isLocalName(host)) return true;
  // A name that does not resolve is not private: the browser cannot reach it either.
  return (await resolveHost(host, policy)).some((a) => policy.isPrivateAddress(a));
}

/** localhost and its subdomains, which browsers take as this machine whatever DNS says. */
export function isLocalName(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost');
}

export function isPrivateAddress(a: string): boolean {
  if (isIP(a) === 4) {
    const [x, y] = a.split('.').map(Number) as [number, number];
    return x === 127 || x === 10 || x === 0 || (x === 172 && y >= 16 && y <= 31) || (x === 192 && y === 168) || (x === 169 && y === 254) || (x === 100 && y >= 64 && y <= 127);
  }
  if (isIP(a) !== 6) return false;
  // The shortest form, so that every spelling of one address (0:0::1, ::ffff:127.0.0.1) meets the same test.
  const v6 = new URL(`http://[${a}]`).hostname.slice(1, -1);
  if (v6 === '::1' || v6 === '::') return true;
  // An IPv4 address in IPv6 clothes (::ffff:7f00:1 is 127.0.0.1) reaches that IPv4 address.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (mapped) {
    const [hi, lo] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
    return isPrivateAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  return /^f[cd]/.test(v6) || /^fe[89ab]/.test(v6);
}
