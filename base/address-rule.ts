// Which addresses a page from elsewhere may not make us reach: loopback, private, link-local and unique-local ones
// (this machine and the home network). One rule for every fetch of a watched page or feed — the rendered fetch (the
// check of the watched address, and the checking proxy every request of the browser goes through,
// monitors/web/checking-proxy.ts) and the plain fetch's redirects (conditional-get.ts, `redirectRule`) — so they can
// never disagree. Shared plumbing: it imports nothing of ours.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

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

/**
 * Every address that is not plain public unicast: loopback, private, link-local, unique-local, carrier-grade NAT,
 * multicast, broadcast, reserved and benchmarking ranges (ipaddr.js's range table, kept by express's maintainers).
 * IPv6 forms that carry an IPv4 address — mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and
 * 6to4 (2002::/16) — are judged by the IPv4 address they reach, since a gateway would deliver them there.
 */
export function isPrivateAddress(a: string): boolean {
  if (!ipaddr.isValid(a)) return false;
  const parsed = ipaddr.parse(a);
  if (parsed.kind() === 'ipv4') return parsed.range() !== 'unicast';
  const v6 = parsed as ipaddr.IPv6;
  const embedded = embeddedIPv4(v6);
  if (embedded) return isPrivateAddress(embedded);
  const range = v6.range();
  // fec0::/10 (site-local) is deprecated but still routed inside some networks; teredo's embedded IPv4 is the relay's.
  if (range === 'unicast') return v6.match(ipaddr.IPv6.parse('fec0::'), 10);
  return range !== 'teredo';
}

function embeddedIPv4(v6: ipaddr.IPv6): string | null {
  const p = v6.parts;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const range = v6.range();
  if (range === 'ipv4Mapped' || range === 'rfc6052' || range === 'rfc6145') return v4(p[6]!, p[7]!);
  if (range === '6to4') return v4(p[1]!, p[2]!);
  // ::a.b.c.d (IPv4-compatible, deprecated); :: and ::1 themselves are unspecified/loopback, judged as IPv6.
  if (p.slice(0, 6).every((x) => x === 0) && (p[6]! !== 0 || p[7]! > 1)) return v4(p[6]!, p[7]!);
  return null;
}

/** What a refusal says about a host, the same words for the browser's proxy and the plain fetch. */
export function privateHostReason(host: string): string {
  return `${host} is on this machine or the local network, which a page on a public address may not reach`;
}

/**
 * For a fetch that follows its redirects itself (conditional-get.ts): where a redirect may lead from `start`. A start
 * on this machine or the local network is the user's own choice of address, and its redirects may go anywhere; from
 * a public one, a hop into loopback or private addresses (a name that resolves to one included) is refused, with the
 * reason. The start is judged once, at its first redirect. Like the rendered fetch's proxy, but without pinning: the
 * plain fetch resolves the name again when it connects (see monitors/web/README.md).
 */
export function redirectRule(start: string, policy?: AddressPolicy): (target: URL) => Promise<string | null> {
  let startPrivate: Promise<boolean> | null = null;
  return async (target) => {
    const p = policy ?? currentAddressPolicy();
    startPrivate ??= isPrivateHost(new URL(start).hostname, p);
    if (await startPrivate) return null;
    return (await isPrivateHost(target.hostname, p)) ? privateHostReason(target.hostname.replace(/^\[|\]$/g, '')) : null;
  };
}
