// tcp, ping, dns and certificate checks against real things on loopback: listeners, the system's ping, Debian's
// dnsmasq, and TLS servers with certificates made by openssl for this run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import tcp from '../../monitors/tcp/index.js';
import ping from '../../monitors/ping/index.js';
import dns from '../../monitors/dns/index.js';
import certificate from '../../monitors/certificate/index.js';
import type { MonitorDefinition } from '../../core/monitor.js';
import { dryRunMonitor } from '../../core/monitor-host.js';
import { createTestContext } from './web-test-context.js';
import { closedPort, silentPort } from '../helpers/ports.js';
import { startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.js';
import { createTestPki, type TestPki } from '../helpers/test-ca.js';

const said = (t: { healthLog: string[] }) => t.healthLog.filter((h) => h !== 'ok').at(-1) ?? '';

/** Run a check `times` times; returns the context (events, health) after stopping it. */
async function checkRuns<C>(def: MonitorDefinition<C>, config: Record<string, unknown>, times = 1, state?: Map<string, unknown>) {
  const t = createTestContext(def, { retries: 1, ...config }, state ? { state } : {});
  await t.instance.start();
  for (let i = 0; i < times; i++) await t.tick();
  await t.stop();
  return t;
}

test('tcp: a listening port is up with its connect time; a closed one is down with "connection refused"', async () => {
  const srv = net.createServer((s) => s.end());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  const up = await checkRuns(tcp, { host: '127.0.0.1', port });
  assert.match(said(up), /^ok: up, \d+ ms$/);
  srv.close();
  const closed = await closedPort();
  const down = await checkRuns(tcp, { host: '127.0.0.1', port: closed });
  assert.equal(down.events.find((e) => e.type === 'check.down')?.fields?.reason, `connection refused by 127.0.0.1:${closed} (nothing listens there)`);
  const nowhere = await checkRuns(tcp, { host: 'no-such-host.invalid', port: 80 });
  assert.match(said(nowhere), /down: cannot resolve host no-such-host\.invalid/);
  // A host that does not answer: the check gives up at its timeout with the reason, not at the OS's minutes later.
  const nobody = await silentPort();
  const started = Date.now();
  const silent = await checkRuns(tcp, { host: '127.0.0.1', port: nobody.port, timeout: '1s' });
  nobody.close();
  assert.ok(Date.now() - started < 6_000, 'the connect gives up at the timeout');
  assert.equal(said(silent), `degraded: down: no connection to 127.0.0.1:${nobody.port} within 1 s`);
  const [probe] = await dryRunMonitor(tcp, { host: '127.0.0.1', port: closed });
  assert.equal(probe!.type, 'check.down', '"Test now" gives the verdict of one check');
});

test('ping: 127.0.0.1 answers with an rtt; an unused address is down without hanging the check', async () => {
  const up = await checkRuns(ping, { host: '127.0.0.1', packets: 2 });
  assert.match(said(up), /^ok: up, [\d.]+ ms$/);
  const started = Date.now();
  const down = await checkRuns(ping, { host: '203.0.113.9', packets: 1, timeout: '1s' });
  assert.ok(Date.now() - started < 6_000, 'ping gives up at its deadline');
  assert.match(said(down), /down: no answer from 203\.0\.113\.9 \(1 packets lost\)/);
  assert.equal(ping.configSchema.safeParse({ host: '-f' }).success, false, 'an option is not a host');
  const [first] = await dryRunMonitor(ping, { host: '127.0.0.1', packets: 1 });
  assert.equal(first!.type, 'check.up');
});

let dnsmasq: Dnsmasq;
before(async () => {
  dnsmasq = await startDnsmasq(['10.1.2.3 app.test', 'fd00::5 app.test'], ['--cname=www.app.test,app.test', '--mx-host=app.test,mail.app.test,10', '--txt-record=app.test,v=spf1 -all']);
});
after(() => dnsmasq.stop());

test('dns: A, AAAA, CNAME, MX and TXT at a chosen resolver, with expected values', async () => {
  const verdict = async (config: Record<string, unknown>) => {
    const t = await checkRuns(dns, { server: dnsmasq.server, ...config });
    return said(t);
  };
  assert.match(await verdict({ name: 'app.test', recordType: 'A', expected: ['10.1.2.3'] }), /^ok: up/);
  assert.match(await verdict({ name: 'app.test', recordType: 'AAAA', expected: ['FD00::5'] }), /^ok: up/);
  assert.match(await verdict({ name: 'www.app.test', recordType: 'CNAME', expected: ['app.test'] }), /^ok: up/);
  assert.match(await verdict({ name: 'app.test', recordType: 'MX', expected: ['10 mail.app.test'] }), /^ok: up/);
  assert.match(await verdict({ name: 'app.test', recordType: 'TXT', expected: ['v=spf1 -all'] }), /^ok: up/);
  assert.equal(await verdict({ name: 'app.test', expected: ['10.9.9.9'] }), 'degraded: down: app.test A is 10.1.2.3, expected 10.9.9.9');
  assert.equal(await verdict({ name: 'gone.test' }), `degraded: down: gone.test does not exist (NXDOMAIN at ${dnsmasq.server})`);
  const noServer = `127.0.0.1:${await closedPort()}`;
  assert.match(await verdict({ name: 'app.test', server: noServer, timeout: '1s' }), /degraded: down: (127\.0\.0\.1:\d+ did not answer in time|.*refused)/);
  const events = await dryRunMonitor(dns, { server: dnsmasq.server, name: 'app.test', expected: ['10.1.2.3'] });
  assert.deepEqual(events.map((e) => e.type), ['check.up', 'check.sample'], '"Test now"');
});

test('dns: a changed answer is one dns.changed event, remembered across restarts', async () => {
  const state = new Map<string, unknown>();
  const first = await checkRuns(dns, { server: dnsmasq.server, name: 'moving.test' , retries: 1 }, 1, state);
  assert.ok(!first.events.some((e) => e.type === 'dns.changed'));
  await dnsmasq.setHosts(['10.1.2.3 app.test', 'fd00::5 app.test', '10.0.0.1 moving.test']);
  const second = await checkRuns(dns, { server: dnsmasq.server, name: 'moving.test' }, 2, state);
  await dnsmasq.setHosts(['10.1.2.3 app.test', 'fd00::5 app.test', '10.0.0.2 moving.test']);
  const third = await checkRuns(dns, { server: dnsmasq.server, name: 'moving.test' }, 2, state);
  const changes = [...second.events, ...third.events].filter((e) => e.type === 'dns.changed');
  // The name did not exist at first (no answer to compare with), then 10.0.0.1 (the first answer), then 10.0.0.2.
  assert.deepEqual(changes.map((c) => [c.fields!.removed, c.fields!.added]), [[['10.0.0.1'], ['10.0.0.2']]]);
  assert.equal(changes.at(-1)!.title, 'moving.test A changed: 10.0.0.2');
});

// ---- certificates ----

let pki: TestPki;
const servers: tls.Server[] = [];
before(() => {
  pki = createTestPki();
});
after(() => {
  for (const s of servers) s.close();
  pki.close();
});

/** A leaf signed by the test CA, valid for `days` (negative: already expired), for the given names. */
function leaf(name: string, days: number, alt = 'IP:127.0.0.1,DNS:localhost'): { cert: Buffer; key: Buffer } {
  const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: pki.dir, stdio: 'pipe' });
  ssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=localhost']);
  writeFileSync(path.join(pki.dir, `${name}.ext`), `subjectAltName=${alt}\n`);
  ssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', String(days), '-extfile', `${name}.ext`]);
  return { cert: readFileSync(path.join(pki.dir, `${name}.crt`)), key: readFileSync(path.join(pki.dir, `${name}.key`)) };
}

async function tlsServer(creds: { cert: Buffer; key: Buffer }): Promise<{ port: number; swap(c: { cert: Buffer; key: Buffer }): void }> {
  let current = tls.createSecureContext(creds);
  const s = tls.createServer({ SNICallback: (_n, cb) => cb(null, current), ...creds }, (sock) => sock.end());
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { port: (s.address() as AddressInfo).port, swap: (c) => void (current = tls.createSecureContext(c)) };
}

test('certificate: days left as the value; cert.expiring once per threshold crossed, again for the next', async () => {
  const srv = await tlsServer(leaf('d20', 20));
  const state = new Map<string, unknown>();
  const base = { host: 'localhost', port: srv.port, caFile: pki.caFile };
  const a = await checkRuns(certificate, base, 2, state);
  const warn = a.events.filter((e) => e.type === 'cert.expiring');
  assert.equal(warn.length, 1, 'the 30-day warning, once over two checks');
  assert.equal(warn[0]!.fields!.threshold, 30);
  assert.match(warn[0]!.title!, /^Certificate of localhost expires in 19 days$/);
  assert.match(said(a), /^ok: up, 19 days left$/);
  srv.swap(leaf('d5', 5));
  const b = await checkRuns(certificate, base, 2, state);
  assert.deepEqual(b.events.filter((e) => e.type === 'cert.expiring').map((e) => e.fields!.threshold), [7], 'a new certificate nearer its end: warned at its threshold');
  srv.swap(leaf('d90', 90));
  const c = await checkRuns(certificate, base, 1, state);
  assert.deepEqual(c.events.filter((e) => e.type.startsWith('cert.')), [], 'renewed: quiet');
});

test('certificate: a certificate found nearer its end warns at the nearest threshold: 14 days, then 1 day', async () => {
  const srv = await tlsServer(leaf('d10', 10));
  const state = new Map<string, unknown>();
  const base = { host: 'localhost', port: srv.port, caFile: pki.caFile };
  const a = await checkRuns(certificate, base, 2, state);
  assert.deepEqual(a.events.filter((e) => e.type === 'cert.expiring').map((e) => e.fields!.threshold), [14]);
  srv.swap(leaf('d1', 1));
  const b = await checkRuns(certificate, base, 2, state);
  const last = b.events.filter((e) => e.type === 'cert.expiring');
  assert.deepEqual(last.map((e) => e.fields!.threshold), [1]);
  assert.match(last[0]!.title!, /^Certificate of localhost expires in 0 days$/);
});

test('certificate: expired, untrusted chain and wrong name are cert.invalid (once) and down, with the reason', async () => {
  const expired = await tlsServer(leaf('old', -1));
  const e = await checkRuns(certificate, { host: '127.0.0.1', port: expired.port, caFile: pki.caFile }, 2);
  assert.equal(e.events.filter((x) => x.type === 'cert.invalid').length, 1);
  assert.match(said(e), /down: the certificate expired on \d{4}-\d\d-\d\d/);
  const good = await tlsServer(leaf('good', 60));
  const untrusted = await checkRuns(certificate, { host: '127.0.0.1', port: good.port, caFile: pki.otherCaFile });
  assert.match(said(untrusted), /down: the certificate is not trusted: its chain ends in a CA that is not trusted|not signed by a trusted CA/);
  const wrongName = await checkRuns(certificate, { host: '127.0.0.1', port: good.port, serverName: 'shop.example', caFile: pki.caFile });
  assert.match(said(wrongName), /down: the certificate is for .*localhost.*, not shop\.example/);
  const refused = await checkRuns(certificate, { host: '127.0.0.1', port: await closedPort() });
  assert.match(said(refused), /down: connection refused by 127\.0\.0\.1:\d+/);
  const events = await dryRunMonitor(certificate, { host: '127.0.0.1', port: expired.port, caFile: pki.caFile });
  assert.deepEqual(events.map((x) => x.type), ['cert.invalid', 'check.down', 'check.sample']);
});
