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
//
// It also keeps a rendered check to the sizes a plain fetch keeps to, while the page loads rather than after the
// browser took it all in: every byte it passes to the browser counts against a cap on the whole render (pages,
// images, scripts, media; plain and tunnelled alike), and the watched page's own document (the address asked for,
// and where it redirects) against the page limit, refused at its headers when it says it is larger. Only plain-HTTP
// documents can be seen as such: an HTTPS tunnel is opaque, so there the cap on the whole render is what holds.
// Past either limit every connection is cut on both sides (nothing more is let through, nor downloaded), and
// `overLimit` tells the renderer, which ends the render with the reason instead of waiting for its timeout.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { isIP, type LookupFunction } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { isLocalName, privateHostReason, resolveHost, type AddressPolicy } from '../../base/address-rule.js';
import { headerOf } from '../../core/header-value.js';

/** Marks the proxy's own refusals, so the render can say why the page did not load instead of "HTTP 403". */
export const REFUSED_HEADER = 'x-panoptes-refused';

export interface CheckingProxy {
  /** For Playwright's `launch({ proxy })`. */
  server: string;
  username: string;
  password: string;
  /** Why a host was refused (by lower-case host name, IPv6 without brackets), for the render's message about the page itself. */
  refusals: Map<string, string>;
  /** Settles when a size limit was passed (then every connection has been cut); never otherwise. */
  overLimit: Promise<OverLimit>;
  /** The limit passed, once one was. */
  readonly over: OverLimit | null;
  close(): Promise<void>;
}

/** Which limit a render passed: the watched page's document (and what size it declared, if it did), or the whole render's. */
export type OverLimit = { kind: 'page'; limit: number; declared?: number } | { kind: 'total'; limit: number };

export interface SizeLimits {
  /** The watched page's address: its document, and each address it redirects to, may be at most `maxPageBytes`. */
  pageUrl: string;
  maxPageBytes: number;
  /** All the proxy passes to the browser during one render. */
  maxTotalBytes: number;
}

export interface CheckingProxyOptions {
  /** True when the watched page is itself on this machine or the local network: then it may reach those too. */
  allowPrivate: boolean;
  policy: AddressPolicy;
  /** Where refused addresses are recorded (the picker shows them). */
  blocked: string[];
  /** No size limits when absent. */
  limits?: SizeLimits;
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
  let over: OverLimit | null = null;
  let reportOver: (o: OverLimit) => void = () => {};
  const overLimit = new Promise<OverLimit>((resolve) => (reportOver = resolve));
  // Every connection from the browser destroyed with an error, not closed: proxy-chain answers a tunnel's browser
  // side closing by ending the server side gracefully and reading on to the end of what the server sends (a server
  // that keeps sending after the FIN, as nginx does, would have a 5 GB video in flight downloaded only to be
  // dropped); on an error it destroys the server side too. Its own listener on every connection takes the error.
  const cutAll = (why: string) => {
    const error = new Error(why);
    for (const socket of server.connections.values()) socket.destroy(error);
  };
  const exceeded = (o: OverLimit) => {
    if (over) return;
    over = o;
    reportOver(o);
    cutAll('the render passed a size limit');
  };
  const server = new Server({
    port: 0,
    host: '127.0.0.1',
    authRealm: 'Panoptes',
    verbose: false,
    prepareRequestFunction: async ({ username: u, password: p, hostname, port, isHttp, request }) => {
      if (!same(u, username) || !same(p, password)) return { requestAuthentication: true };
      if (over) throw new RequestError('this render brought in more than it may; nothing more is fetched\n', 502);
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
  if (options.limits) countSizes(server.server, options.limits, exceeded);
  await server.listen();
  return {
    server: `http://127.0.0.1:${server.port}`,
    username,
    password,
    refusals,
    overLimit,
    get over() {
      return over;
    },
    close: () => {
      cutAll('the render ended');
      return server.close(false);
    },
  };
}

/**
 * Counts what the proxy sends the browser, by the listeners of its HTTP server: each connection from the browser
 * (a plain request's answer, or a tunnel) by what is written to it, and each answer to a plain request for the
 * watched page by its headers and body. Node's server hands these listeners the same sockets and responses that
 * proxy-chain answers on, before it has written anything to them.
 */
function countSizes(server: http.Server, limits: SizeLimits, exceeded: (o: OverLimit) => void): void {
  let total = 0;
  server.on('connection', (socket: import('node:net').Socket) => {
    const write = socket.write;
    socket.write = function (this: typeof socket, chunk: unknown, ...rest: unknown[]): boolean {
      const sent = write.apply(this, [chunk, ...rest] as Parameters<typeof write>);
      total += byteLength(chunk, rest[0]);
      if (total > limits.maxTotalBytes) exceeded({ kind: 'total', limit: limits.maxTotalBytes });
      return sent;
    } as typeof socket.write;
  });
  const documents = new Set([withoutHash(limits.pageUrl)]);
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    // A request through a proxy names the whole URL; one that does not is not for a page.
    if (!req.url || !/^http:\/\//i.test(req.url) || !documents.has(withoutHash(req.url))) return;
    const target = req.url;
    const writeHead = res.writeHead;
    res.writeHead = function (this: typeof res, status: number, ...rest: unknown[]) {
      const headers = rest.find((r) => typeof r === 'object' && r !== null);
      const location = headerOf(headers, 'location');
      if (status >= 300 && status < 400 && location) {
        try {
          documents.add(withoutHash(new URL(location, target).href));
        } catch {
          // Not a URL: the browser will not follow it either.
        }
      }
      const declared = Number(headerOf(headers, 'content-length') ?? NaN);
      if (declared > limits.maxPageBytes) {
        exceeded({ kind: 'page', limit: limits.maxPageBytes, declared });
        return this;
      }
      return writeHead.apply(this, [status, ...rest] as Parameters<typeof writeHead>);
    } as typeof res.writeHead;
    let body = 0;
    const write = res.write;
    res.write = function (this: typeof res, chunk: unknown, ...rest: unknown[]): boolean {
      body += byteLength(chunk, rest[0]);
      if (body > limits.maxPageBytes) {
        exceeded({ kind: 'page', limit: limits.maxPageBytes });
        return false;
      }
      return write.apply(this, [chunk, ...rest] as Parameters<typeof write>);
    } as typeof res.write;
  });
}

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return chunk instanceof Uint8Array ? chunk.byteLength : 0;
}

function withoutHash(u: string): string {
  try {
    const url = new URL(u);
    url.hash = '';
    return url.href;
  } catch {
    return u;
  }
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
