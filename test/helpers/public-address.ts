// "A page on a public address" on one machine, for the rendered fetch's address-rule tests (web-render-private,
// web-render-rebind): a test server on 127.0.0.1 and 127.0.0.2 (same port on both), the tests' address policy
// (base/address-rule.ts) resolving the given name suffixes to 127.0.0.2 and counting that address, and only
// that one, as public, as a real site on the web would be; and a Chromium wrapper that starts Debian's Chromium with
// the browser's own answers for those names (--host-resolver-rules). The server records every request, WebSocket
// upgrade and (optionally) raw TLS connection with the address it arrived at: whatever reaches 127.0.0.1 from a
// public page is a leak.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import web from '../../monitors/web/index.js';
import { isPrivateAddress, setAddressPolicyForTests, systemAddressPolicy } from '../../base/address-rule.js';
import { createTestContext } from '../monitors/web-test-context.js';

export const CHROMIUM = process.env.PANOPTES_CHROMIUM ?? '/usr/bin/chromium';
/** `skip` for node:test: the reason when there is no Chromium, false otherwise. */
export const noChromium: string | false = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium)`;

export interface PublicAddressOptions {
  /** Answers a request (recorded already); `port`/`tlsPort` are the servers' ports once listening. */
  respond(pathname: string, res: http.ServerResponse, ports: { port: number; tlsPort: number }): void;
  /** Names ending in one of these resolve to 127.0.0.2 for Panoptes. */
  publicSuffixes: string[];
  /** What the browser's resolver answers instead (Chromium's --host-resolver-rules), e.g. 'MAP *.public.test 127.0.0.2'. */
  browserRules: string;
  /** Also listen for raw connections on a second port (HTTPS's CONNECT target), recorded as "<address> tls". */
  tls?: boolean;
}

export interface PublicAddress {
  port: number;
  tlsPort: number;
  /** "<address it arrived at> <Host header without port> <path>", "… (websocket)" for upgrades, "<address> tls". */
  seen: string[];
  /** The Chromium wrapper to give the monitor as browserPath. */
  wrapper: string;
  /** Renders `url` once through the web monitor with the wrapper; what it kept and the check's errors. */
  render(url: string, options?: { steps?: string[] }): Promise<{ versions: string[]; errors: string[] }>;
  close(): void;
}

/**
 * The address policy and the browser's side of it, for tests with servers of their own: names ending in one of
 * `publicSuffixes` resolve to 127.0.0.2 for Panoptes (`lookup` may answer a name first), which alone counts as public;
 * `wrapper` starts Chromium with `browserRules` as its own resolver's answers. `close` puts the system's policy back.
 */
export function publicAddressPolicy(
  publicSuffixes: string[],
  browserRules: string,
  lookup?: (name: string) => string[] | undefined,
): { wrapper: string; close(): void } {
  setAddressPolicyForTests({
    lookup: async (name) => lookup?.(name) ?? (publicSuffixes.some((s) => name.endsWith(s)) ? ['127.0.0.2'] : systemAddressPolicy.lookup(name)),
    isPrivateAddress: (a) => a !== '127.0.0.2' && isPrivateAddress(a),
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-public-'));
  const wrapper = path.join(dir, 'chromium');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${CHROMIUM} '--host-resolver-rules=${browserRules}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  return {
    wrapper,
    close() {
      setAddressPolicyForTests(null);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const listen = (s: net.Server, port: number, host: string) =>
  new Promise<number>((resolve) => s.listen(port, host, () => resolve((s.address() as AddressInfo).port)));

export async function startPublicAddress(options: PublicAddressOptions): Promise<PublicAddress> {
  const servers: net.Server[] = [];
  const seen: string[] = [];
  const ports = { port: 0, tlsPort: 0 };
  for (const host of ['127.0.0.1', '127.0.0.2']) {
    const s = http.createServer((req, res) => {
      const p = new URL(req.url ?? '/', 'http://x').pathname;
      seen.push(`${req.socket.localAddress} ${req.headers.host?.split(':')[0]} ${p}`);
      options.respond(p, res, ports);
    });
    s.on('upgrade', (req, socket) => {
      seen.push(`${req.socket.localAddress} ${req.headers.host?.split(':')[0]} ${req.url} (websocket)`);
      socket.destroy();
    });
    ports.port = await listen(s, ports.port, host);
    servers.push(s);
    if (options.tls) {
      // HTTPS needs no certificate here: a connection arriving is what counts.
      const t = net.createServer((socket) => {
        seen.push(`${socket.localAddress} tls`);
        socket.destroy();
      });
      ports.tlsPort = await listen(t, ports.tlsPort, host);
      servers.push(t);
    }
  }
  const browser = publicAddressPolicy(options.publicSuffixes, options.browserRules);
  const wrapper = browser.wrapper;
  return {
    ...ports,
    seen,
    wrapper,
    async render(url, { steps } = {}) {
      const versions: string[] = [];
      const extra = { versions: { add: (text: string) => (versions.push(text), { id: versions.length, created: true }) } };
      const t = createTestContext(web, { url, render: true, browserPath: wrapper, ...(steps ? { steps } : {}), selector: '#t', timeout: '60s' }, { extra });
      await t.instance.start();
      await t.tick();
      await t.stop();
      return { versions, errors: t.errors };
    },
    close() {
      browser.close();
      for (const s of servers) {
        if (s instanceof http.Server) s.closeAllConnections();
        s.close();
      }
    },
  };
}
