// The rendered fetch's browser reaches the network only through this proxy (render.ts starts one per browser), so
// the private-address rule is applied where the connection is made, to every connection: each hop of a redirect,
// every frame, image, fetch and WebSocket, plain HTTP (forwarded) and HTTPS/WebSocket tunnels (CONNECT). Each host is
// resolved once, here; the rule (base/address-rule.ts) judges those addresses, and the connection goes to exactly them —
// never to whatever the name answers next (DNS rebinding), since the browser itself resolves nothing.
//
// It listens on 127.0.0.1 only, on a port of the system's choosing, and answers only the browser it was started for:
// every request must carry the random user name and password that only that browser was given (other programs on
// this machine cannot use it to reach the local network). The proxy server itself is proxy-chain (Apify's, well
// kept); what is ours is the check in `prepareRequestFunction` and pinning the checked addresses as its `dnsLookup`.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP, type LookupFunction } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { isLocalName, privateHostReason, resolveHost, type AddressPolicy } from '../../base/address-rule.js';

/** Marks the proxy's own refusals, so the render can say why the page did not load instead of "HTTP 403". */
export const REFUSED_HEADER = 'x-panoptes-refused';

export interface CheckingProxy {
  /** For Playwright's `launch({ proxy })`. */
  server: string;
  username: string;
  password: string;
  /** Why a host was refused (by lower-case host name, IPv6 without brackets), for the render's message about the page itself. */
  refusals: Map<string, string>;
  close(): Promise<void>;
}

export interface CheckingProxyOptions {
  /** True when the watched page is itself on this machine or the local network: then it may reach those too. */
  allowPrivate: boolean;
  policy: AddressPolicy;
  /** Where refused addresses are recorded (the picker shows them). */
  blocked: string[];
}

export async function startCheckingProxy(options: CheckingProxyOptions): Promise<CheckingProxy> {
  // Loaded with the first rendered check, as playwright-core is: an engine that renders nothing never needs it.
  const { Server, RequestError } = await import('proxy-chain');
  const username = 'panoptes';
  const password = randomBytes(24).toString('hex');
  const refusals = new Map<string, string>();
  const refuse = (host: string, reason: string, status: number): never => {
    refusals.set(host, reason);
    // Header values must be plain ASCII; host names reach us as URLs spell them (punycode).
    throw new RequestError(`${reason}\n`, status, { [REFUSED_HEADER]: reason.replace(/[^\x20-\x7e]/g, '?') });
  };
  const server = new Server({
    port: 0,
    host: '127.0.0.1',
    authRealm: 'Panoptes',
    verbose: false,
    prepareRequestFunction: async ({ username: u, password: p, hostname, port, isHttp, request }) => {
      if (!same(u, username) || !same(p, password)) return { requestAuthentication: true };
      // Keyed as render.ts looks refusals up: lower case, an IPv6 literal without brackets.
      const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
      const what = isHttp ? (request.url ?? host) : `${host}:${port}`;
      const addresses = await resolveHost(host, options.policy);
      if (addresses.length === 0) return refuse(host, `${host}: not a known host name`, 502);
      if (!options.allowPrivate && (isLocalName(host) || addresses.some((a) => options.policy.isPrivateAddress(a)))) {
        options.blocked.push(what);
        return refuse(host, privateHostReason(host), 403);
      }
      return { dnsLookup: pinnedLookup(addresses) };
    },
  });
  await server.listen();
  return {
    server: `http://127.0.0.1:${server.port}`,
    username,
    password,
    refusals,
    close: () => server.close(true),
  };
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A `lookup` for the outgoing connection that answers the addresses already checked and nothing else (Node asks for
 * all of them when it tries IPv6 and IPv4 in turn, as the browser would have). Address literals are connected to
 * directly, without a lookup: they were checked as they are.
 */
function pinnedLookup(addresses: readonly string[]): typeof import('node:dns').lookup {
  const all: LookupAddress[] = addresses.map((address) => ({ address, family: isIP(address) }));
  const lookup: LookupFunction = (_hostname, opts, callback) => {
    const fitting = opts.family === 4 || opts.family === 6 ? all.filter((a) => a.family === opts.family) : all;
    const cb = callback as (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
    if (fitting.length === 0) {
      const err: NodeJS.ErrnoException = Object.assign(new Error(`no IPv${opts.family} address`), { code: 'ENOTFOUND' });
      cb(err, []);
    } else if (opts.all) cb(null, fitting);
    else cb(null, fitting[0]!.address, fitting[0]!.family);
  };
  return lookup as unknown as typeof import('node:dns').lookup;
}
