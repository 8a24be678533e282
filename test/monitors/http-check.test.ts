import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import httpCheck from '../../monitors/http/index.js';
import { parseJsonPath, valueAt } from '../../monitors/http/json-value.js';
import { dryRunMonitor } from '../../core/monitor-host.js';
import { createTestContext } from './web-test-context.js';
import { startTestServer, respond, hang, type TestServer, type Handler } from '../helpers/http-server.js';
import { createTestPki, type TestPki } from '../helpers/test-ca.js';
import { closedPort } from '../helpers/ports.js';
import { runMonitor } from '../helpers/monitor-harness.js';

/** The last thing the check itself said about its health (the test context also logs a bare "ok" per run). */
const said = (t: { healthLog: string[] }) => t.healthLog.filter((h) => h !== 'ok').at(-1) ?? '';

let server: TestServer;
let handler: Handler = respond(200, 'ok');
let pki: TestPki;
let tlsServer: https.Server;
let tlsOrigin = '';

before(async () => {
  server = await startTestServer();
  server.route('/health', (req, res) => handler(req, res));
  server.route('/json', respond(200, JSON.stringify({ status: { db: 'ok', replicas: 3 }, items: [{ name: 'a' }] }), { 'content-type': 'application/json' }));
  server.route('/moved', respond(302, '', { location: '/json' }));
  server.route('/loop', respond(302, '', { location: '/loop' }));
  server.route('/auth', (req, res) => {
    const ok = req.headers.authorization === 'Basic ' + Buffer.from('alice:s3cret').toString('base64') || req.headers.authorization === 'Bearer tok-123';
    res.writeHead(ok ? 200 : 401);
    res.end(ok ? 'welcome' : 'who are you');
  });
  server.route('/post', (req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.writeHead(req.method === 'POST' && JSON.parse(body).ping === 1 && req.headers['x-probe'] === 'yes' ? 201 : 400);
      res.end();
    });
  });
  server.route('/slow', (_req, res) => void setTimeout(() => res.end('late'), 300));
  server.route('/hang', hang());
  pki = createTestPki();
  tlsServer = https.createServer({ cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) }, (_req, res) => res.end('secure ok'));
  await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
  tlsOrigin = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
});
after(async () => {
  await server.close();
  tlsServer.closeAllConnections();
  await new Promise((r) => tlsServer.close(r));
  pki.close();
});

test('down once after 3 failed checks, up once when it answers again; samples carry the response time', async () => {
  handler = respond(200, 'ok');
  const t = createTestContext(httpCheck, { url: server.url('/health'), sampleEvery: '1s' });
  await t.instance.start();
  await t.tick();
  assert.deepEqual(t.events.filter((e) => e.type !== 'check.sample'), [], 'the first success is recorded quietly');
  assert.match(said(t), /^ok: up, \d+ ms/);

  handler = respond(503, 'down for maintenance');
  for (let i = 0; i < 5; i++) await t.tick();
  const downs = t.events.filter((e) => e.type === 'check.down');
  assert.equal(downs.length, 1, 'down is announced once, not on every failure');
  assert.match(downs[0]!.title!, /down: HTTP 503 from 127\.0\.0\.1:\d+ \(expected 200-299\)/);
  assert.equal(downs[0]!.fields!.status, 503);
  assert.equal(downs[0]!.fields!.failures, 3);
  assert.match(said(t), /^degraded: down: HTTP 503/);
  assert.deepEqual(t.errors, [], 'a down target is not an error of the monitor (no backoff)');

  handler = respond(200, 'ok');
  await t.tick();
  await t.tick();
  const ups = t.events.filter((e) => e.type === 'check.up');
  assert.equal(ups.length, 1);
  assert.match(ups[0]!.title!, /up again after \d+s/);

  await new Promise((r) => setTimeout(r, 1_050));
  await t.tick();
  const sample = t.events.filter((e) => e.type === 'check.sample').at(-1)!;
  assert.ok(sample.tags!.includes('ambient'));
  assert.ok((sample.fields!.count as number) >= 1);
  assert.equal(typeof sample.fields!.avg, 'number');
  assert.ok((sample.fields!.uptime24h as number) > 0 && (sample.fields!.uptime24h as number) < 100, 'uptime counts the failed checks');
  await t.stop();
});

test('keyword present/absent, JSON value by pointer and JSONPath, redirects, POST with headers and body', async () => {
  const verdict = async (config: Record<string, unknown>) => {
    const t = createTestContext(httpCheck, { retries: 1, ...config });
    await t.instance.start();
    await t.tick();
    await t.stop();
    const s = t.events.find((e) => e.type === 'check.down');
    return s ? `down: ${s.fields!.reason}` : 'up';
  };
  handler = respond(200, 'all systems operational');
  assert.equal(await verdict({ url: server.url('/health'), keyword: 'operational' }), 'up');
  assert.equal(await verdict({ url: server.url('/health'), keyword: 'Operational' }), 'down: "Operational" not found in the answer');
  assert.equal(await verdict({ url: server.url('/health'), keyword: 'operational', keywordAbsent: true }), 'down: the answer contains "operational"');
  assert.equal(await verdict({ url: server.url('/json'), jsonPath: '/status/db', jsonExpected: 'ok' }), 'up');
  assert.equal(await verdict({ url: server.url('/json'), jsonPath: '$.status.replicas', jsonExpected: '3' }), 'up');
  assert.equal(await verdict({ url: server.url('/json'), jsonPath: "$.items[0]['name']", jsonExpected: 'b' }), `down: $.items[0]['name'] is "a", expected "b"`);
  assert.equal(await verdict({ url: server.url('/json'), jsonPath: '$.nope' }), 'down: no value at $.nope in the answer');
  assert.equal(await verdict({ url: server.url('/health'), jsonPath: '$.x' }), 'down: the answer is not JSON');
  assert.equal(await verdict({ url: server.url('/moved'), jsonPath: '/status/db', jsonExpected: 'ok' }), 'up', 'redirect followed');
  assert.equal(await verdict({ url: server.url('/moved'), followRedirects: false, acceptStatus: ['3xx'] }), 'up', 'the redirect itself accepted');
  assert.equal(await verdict({ url: server.url('/moved'), followRedirects: false }), `down: HTTP 302 from ${new URL(server.origin).host} (expected 200-299)`);
  assert.match(await verdict({ url: server.url('/loop'), maxRedirects: 3 }), /down: more than 3 redirects/);
  assert.equal(await verdict({ url: server.url('/post'), method: 'POST', headers: { 'X-Probe': 'yes' }, body: '{"ping":1}', acceptStatus: ['201'] }), 'up');
});

test('basic and bearer auth from the secret store; credentials never appear in events or logs', async () => {
  const t = await runMonitor(httpCheck, { url: server.url('/auth'), retries: 1, username: 'alice' }, { secrets: { password: 's3cret' } });
  await t.waitForHealth((h) => h.status === 'ok' && /up/.test(h.message ?? ''), 10_000, 'up with basic auth');
  await t.stop();
  const b = await runMonitor(httpCheck, { url: server.url('/auth'), retries: 1 }, { secrets: { bearerToken: 'tok-123' } });
  await b.waitForHealth((h) => h.status === 'ok' && /up/.test(h.message ?? ''), 10_000, 'up with a bearer token');
  await b.stop();
  const w = await runMonitor(httpCheck, { url: server.url('/auth'), retries: 1 }, { secrets: { bearerToken: 'wrong' } });
  await w.waitForHealth((h) => h.status === 'degraded', 10_000, 'down with a wrong token');
  assert.match(w.health().message!, /HTTP 401/);
  assert.ok(!JSON.stringify([w.events, w.logLines, w.healthLog]).includes('wrong'), 'the token is nowhere');
  await w.stop();
});

test('https with a private CA; a wrong CA or name is a clear "certificate not trusted"', async () => {
  const verdict = async (config: Record<string, unknown>) => {
    const t = createTestContext(httpCheck, { retries: 1, ...config });
    await t.instance.start();
    await t.tick();
    await t.stop();
    return said(t);
  };
  assert.match(await verdict({ url: tlsOrigin, caFile: pki.caFile, keyword: 'secure ok' }), /^ok: up/);
  assert.match(await verdict({ url: tlsOrigin }), /degraded: down: certificate not trusted/);
  assert.match(await verdict({ url: tlsOrigin, caFile: pki.otherCaFile }), /degraded: down: certificate not trusted/);
  assert.match(await verdict({ url: tlsOrigin.replace('127.0.0.1', 'localhost'), caFile: pki.caFile }), /^ok: up/);
  assert.match(await verdict({ url: tlsOrigin, ignoreTlsErrors: true }), /^ok: up/);
});

test('refused, hanging and slow servers: clear reasons, a slow answer emits check.slow once, no check blocks another', async () => {
  const port = await closedPort();
  const refused = createTestContext(httpCheck, { url: `http://127.0.0.1:${port}/`, retries: 1 });
  const hung = createTestContext(httpCheck, { url: server.url('/hang'), retries: 1, timeout: '1s' });
  const slow = createTestContext(httpCheck, { url: server.url('/slow'), slowMs: 100 });
  for (const t of [refused, hung, slow]) await t.instance.start();
  const started = Date.now();
  await Promise.all([refused.tick(), hung.tick(), slow.tick()]);
  assert.ok(Date.now() - started < 4_000, 'checks run side by side');
  assert.match(said(refused), new RegExp(`down: connection refused by 127\\.0\\.0\\.1:${port}`));
  assert.match(said(hung), /down: no answer from 127\.0\.0\.1:\d+ within 1 s/);
  await slow.tick();
  const slows = slow.events.filter((e) => e.type === 'check.slow');
  assert.equal(slows.length, 1, 'slow is announced once while it stays slow');
  assert.match(slows[0]!.title!, /is slow: \d+ ms/);
  for (const t of [refused, hung, slow]) await t.stop();
});

test('a kept-alive connection the server drops as it is reused is retried on a fresh one, not reported as a failure', async () => {
  // Each connection answers one request and resets on the next, as a server closing idle connections does when a
  // check reuses one at that moment (its keep-alive timeout against the check interval).
  const srv = net.createServer((sock) => {
    let seen = 0;
    sock.on('data', () => {
      if (++seen === 1) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
      else sock.resetAndDestroy();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const t = createTestContext(httpCheck, { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/`, retries: 1 });
  await t.instance.start();
  for (let i = 0; i < 4; i++) await t.tick();
  await t.stop();
  srv.close();
  assert.equal(t.events.filter((e) => e.type === 'check.down').length, 0);
  assert.match(said(t), /^ok: up/);
});

test('restart: a down already announced is not announced again', async () => {
  handler = respond(500, 'broken');
  const t = await runMonitor(httpCheck, { url: server.url('/health'), retries: 2, interval: '5s' });
  await t.waitForHealth((h) => h.status === 'degraded' && /^down: HTTP 500/.test(h.message ?? ''), 20_000, 'down');
  assert.equal(t.events.filter((e) => e.type === 'check.down').length, 1);
  await t.restart();
  await t.waitForHealth((h) => h.status === 'degraded' && /down: HTTP 500/.test(h.message ?? ''), 10_000, 'still down after restart');
  assert.equal(t.events.filter((e) => e.type === 'check.down').length, 1, 'no second down after the restart');
  handler = respond(200, 'ok');
  await t.stop();
});

test('"Test now" shows the verdict of one check, without retries', async () => {
  handler = respond(503, 'nope');
  const events = await dryRunMonitor(httpCheck, { url: server.url('/health') }, {});
  assert.deepEqual(events.map((e) => e.type), ['check.down', 'check.sample']);
  assert.match(events[0]!.title!, /HTTP 503/);
});

test('JSON pointer and JSONPath subset', () => {
  const doc = { a: { 'b/c': 1, list: [10, 20] }, 'odd key': true };
  assert.equal(valueAt(doc, parseJsonPath('/a/b~1c')), 1);
  assert.equal(valueAt(doc, parseJsonPath('$.a.list[1]')), 20);
  assert.equal(valueAt(doc, parseJsonPath("$['odd key']")), true);
  assert.equal(valueAt(doc, parseJsonPath('$.a.missing.deeper')), undefined);
  assert.throws(() => parseJsonPath('$.a[?(@.x)]'), /not an index or a quoted name/);
  assert.throws(() => parseJsonPath('a.b'), /start with/);
});
