// A watched HTTPS page that cannot be read must say why in the monitor's health, in words a person can act on —
// whether the address rule refused it (a public page sent into this machine over HTTPS, a name that resolves to a
// private address by the time the browser's connection is made) or its certificate is not one to trust. Run under
// the real MonitorHost (what the Monitors view shows is its health), with Debian's Chromium for the rendered path.
//
// "Public" as in web-render-private.test.ts: the tests' address policy counts 127.0.0.2, and only it, as public, and
// resolves *.public.test to it; flip.public.test answers 127.0.0.2 to the check and 127.0.0.1 afterwards (DNS
// rebinding). The HTTPS server's certificate is signed by a CA made for this run, which nothing trusts.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import web from '../../monitors/web/index.js';
import { browserNetError } from '../../monitors/web/render.js';
import { startWithHost, waitFor } from './web-test-context.js';
import { createTestPki, type TestPki } from '../helpers/test-ca.js';
import { noChromium as skip, publicAddressPolicy } from '../helpers/public-address.js';

const servers: Array<http.Server | https.Server> = [];
let port = 0;
let tlsPort = 0;
/** "<address it arrived at> <path>" of every request the HTTPS server answered. */
const tlsSeen: string[] = [];
let pki: TestPki;
let policy: ReturnType<typeof publicAddressPolicy> | undefined;
let wrapper = '';
let flipLookups = 0;

const listen = (s: http.Server, p: number, host: string) => new Promise<number>((resolve) => s.listen(p, host, () => resolve((s.address() as AddressInfo).port)));

before(async () => {
  pki = createTestPki();
  for (const host of ['127.0.0.1', '127.0.0.2']) {
    const plain = http.createServer((req, res) => {
      // The watched public page, moved to HTTPS on this machine.
      if (req.url === '/to-https') res.writeHead(302, { location: `https://127.0.0.1:${tlsPort}/inside` }).end();
      else res.writeHead(404).end();
    });
    port = await listen(plain, port, host);
    const tls = https.createServer({ cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) }, (req, res) => {
      tlsSeen.push(`${req.socket.localAddress} ${req.url}`);
      res.writeHead(200, { 'content-type': 'text/html' }).end('<p id="t">inside</p>');
    });
    tlsPort = await listen(tls, tlsPort, host);
    servers.push(plain, tls);
  }
  policy = publicAddressPolicy(['.public.test'], 'MAP *.public.test 127.0.0.2', (name) =>
    name === 'flip.public.test' ? (++flipLookups === 1 ? ['127.0.0.2'] : ['127.0.0.1']) : undefined,
  );
  wrapper = policy.wrapper;
});
after(() => {
  policy?.close();
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  pki?.close();
});

/** The health message of a monitor's first check, once it failed. */
async function failedHealth(config: Record<string, unknown>): Promise<string> {
  const run = await startWithHost(web, { selector: '#t', timeout: '60s', ...config });
  try {
    await waitFor(() => run.health.some((h) => h.status === 'failing'), 'the check to fail', 120_000);
    return run.health.find((h) => h.status === 'failing')!.message ?? '';
  } finally {
    await run.stop();
  }
}

test('rendered: a public page sent to HTTPS on this machine is refused, and the health says so', { skip, timeout: 180_000 }, async () => {
  tlsSeen.length = 0;
  const message = await failedHealth({ url: `http://www.public.test:${port}/to-https`, render: true, browserPath: wrapper });
  assert.deepEqual(tlsSeen, [], 'the browser reached the HTTPS server on this machine');
  assert.match(message, /127\.0\.0\.1 is on this machine or the local network, which a page on a public address may not reach/);
});

test('rendered: an HTTPS page whose name turns private after the check is refused, and the health says so', { skip, timeout: 180_000 }, async () => {
  tlsSeen.length = 0;
  flipLookups = 0;
  const message = await failedHealth({ url: `https://flip.public.test:${tlsPort}/page`, render: true, browserPath: wrapper });
  assert.deepEqual(tlsSeen, [], 'the browser reached the HTTPS server on this machine');
  assert.match(message, /^https:\/\/flip\.public\.test:\d+\/page: flip\.public\.test is on this machine or the local network, which a page on a public address may not reach/);
});

test('rendered: an HTTPS page with a certificate nobody trusts says so in words', { skip, timeout: 180_000 }, async () => {
  const message = await failedHealth({ url: `https://127.0.0.1:${tlsPort}/page`, render: true, browserPath: wrapper });
  assert.match(message, /^https:\/\/127\.0\.0\.1:\d+\/page: certificate not trusted: 127\.0\.0\.1:\d+ presented a certificate, but it is not signed by a CA the browser trusts; the last version is kept$/);
});

test('plain fetch: an HTTPS page with a certificate nobody trusts says so in words', { timeout: 60_000 }, async () => {
  const message = await failedHealth({ url: `https://127.0.0.1:${tlsPort}/page` });
  // The web monitor has no "CA file" setting, so the message does not send the user looking for one.
  assert.match(message, /^certificate not trusted: 127\.0\.0\.1:\d+ presented a certificate, but it is not signed by a CA this system trusts; the last version is kept$/);
});

test('Chromium\'s other certificate and connection failures are said in the plain fetch\'s words, never as net::ERR_ codes', () => {
  assert.equal(browserNetError('ERR_CERT_COMMON_NAME_INVALID', 'shop.example'), 'certificate not trusted: shop.example presented a certificate for another host name');
  assert.match(browserNetError('ERR_CERT_DATE_INVALID', 'shop.example') ?? '', /has expired or is not valid yet \(is this machine's clock right\?\)/);
  assert.match(browserNetError('ERR_CERT_REVOKED', 'shop.example') ?? '', /has been revoked/);
  assert.match(browserNetError('ERR_CERT_SOMETHING_NEW', 'shop.example') ?? '', /^certificate not trusted: the certificate of shop\.example was refused \(ERR_CERT_SOMETHING_NEW\)$/);
  assert.match(browserNetError('ERR_SSL_VERSION_OR_CIPHER_MISMATCH', 'old.example') ?? '', /could not make a secure \(TLS\) connection with old\.example/);
  assert.equal(browserNetError('ERR_CONNECTION_REFUSED', 'x'), 'connection refused (is it running?)');
  assert.equal(browserNetError('ERR_ABORTED', 'x'), null, 'unknown codes keep Chromium\'s own message');
});
