// What a webhook action sends and how it treats the answer, against real HTTP servers on loopback: the contract the
// delivery path must keep whatever carries the request (headers and key, redirects, time and size limits, errors
// that are retried and errors that are not, connections kept alive).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { webhookExecutor } from '../../engine/actions/webhook.js';
import type { ActionContext } from '../../core/action.js';
import { hang, hugeBody, respond, startTestServer, type TestServer } from '../helpers/http-server.js';
import { freePort } from '../helpers/ports.js';
import { createTestPki } from '../helpers/test-ca.js';

const KEY = '0123456789abcdef0123456789abcdef';

function ctx(signal: AbortSignal = new AbortController().signal): ActionContext {
  return { ruleId: 'r', eventId: 'e', actionIndex: 0, idempotencyKey: KEY, signal };
}

async function server(t: { after(fn: () => unknown): void }): Promise<TestServer> {
  const s = await startTestServer();
  t.after(() => s.close());
  return s;
}

/** A route that keeps what each request brought (method, headers, body, the client's port). */
function recorder(s: TestServer, path: string, status = 204) {
  const got: { method: string; headers: Record<string, string | string[] | undefined>; body: string; port: number }[] = [];
  s.route(path, async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    got.push({ method: req.method ?? '', headers: req.headers, body, port: req.socket.remotePort ?? 0 });
    res.writeHead(status).end();
  });
  return got;
}

test('webhook delivery: method, body, content type, user agent and the Idempotency-Key (a rule’s own key wins, in any case)', async (t) => {
  const s = await server(t);
  const got = recorder(s, '/in');
  const exec = webhookExecutor();
  t.after(() => exec.close?.());
  await exec.run({ webhook: { url: s.url('/in'), body: { a: 1 } } }, ctx());
  await exec.run({ webhook: { url: s.url('/in'), method: 'PUT', body: 'plain words' } }, ctx());
  await exec.run({ webhook: { url: s.url('/in'), headers: { 'idempotency-KEY': 'mine', 'Content-Type': 'application/x-custom', 'X-Extra': 'yes' }, body: 'x' } }, ctx());
  assert.equal(got.length, 3);
  assert.equal(got[0]!.method, 'POST');
  assert.deepEqual(JSON.parse(got[0]!.body), { a: 1 });
  assert.equal(got[0]!.headers['content-type'], 'application/json');
  assert.equal(got[0]!.headers['idempotency-key'], KEY);
  assert.match(String(got[0]!.headers['user-agent']), /^Panoptes\//);
  assert.equal(got[1]!.method, 'PUT');
  assert.equal(got[1]!.body, 'plain words');
  assert.match(String(got[1]!.headers['content-type']), /^text\/plain/);
  assert.equal(got[2]!.headers['idempotency-key'], 'mine');
  assert.equal(got[2]!.headers['content-type'], 'application/x-custom');
  assert.equal(got[2]!.headers['x-extra'], 'yes');
});

test('webhook delivery: a 307 is followed with method, body and key; a 303 becomes a GET without the body', async (t) => {
  const s = await server(t);
  const got = recorder(s, '/final');
  s.route('/moved', respond(307, '', { location: '/final' }));
  s.route('/see-other', respond(303, '', { location: s.url('/final') }));
  const exec = webhookExecutor();
  t.after(() => exec.close?.());
  await exec.run({ webhook: { url: s.url('/moved'), body: { n: 1 } } }, ctx());
  await exec.run({ webhook: { url: s.url('/see-other'), body: { n: 2 } } }, ctx());
  assert.equal(got[0]!.method, 'POST');
  assert.deepEqual(JSON.parse(got[0]!.body), { n: 1 });
  assert.equal(got[0]!.headers['idempotency-key'], KEY);
  assert.equal(got[1]!.method, 'GET');
  assert.equal(got[1]!.body, '');
  assert.equal(got[1]!.headers['content-type'], undefined);
});

test('webhook delivery: a redirect to another origin does not carry the Authorization header', async (t) => {
  const a = await server(t);
  const b = await server(t);
  const got = recorder(b, '/in');
  a.route('/away', respond(307, '', { location: b.url('/in') }));
  const exec = webhookExecutor();
  t.after(() => exec.close?.());
  await exec.run({ webhook: { url: a.url('/away'), headers: { authorization: 'Bearer secret-for-a' }, body: 'x' } }, ctx());
  assert.equal(got.length, 1);
  assert.equal(got[0]!.headers.authorization, undefined);
  assert.equal(got[0]!.headers['idempotency-key'], KEY);
});

test('webhook delivery: a redirect loop fails (retryable) instead of going round for ever', async (t) => {
  const s = await server(t);
  s.route('/loop', respond(302, '', { location: '/loop' }));
  const exec = webhookExecutor();
  t.after(() => exec.close?.());
  await assert.rejects(exec.run({ webhook: { url: s.url('/loop') } }, ctx()), (err: Error & { permanent?: boolean }) => !err.permanent);
});

test('webhook delivery: 5xx and 429 are retried, other 4xx are permanent', async (t) => {
  const s = await server(t);
  s.route('/500', respond(500));
  s.route('/429', respond(429));
  s.route('/404', respond(404));
  const exec = webhookExecutor();
  t.after(() => exec.close?.());
  const outcome = (path: string) => exec.run({ webhook: { url: s.url(path) } }, ctx()).then(() => 'ok', (e: Error & { permanent?: boolean }) => `${e.permanent ? 'permanent' : 'retry'}: ${e.message}`);
  assert.match(await outcome('/500'), /^retry: .*500/);
  assert.match(await outcome('/429'), /^retry: .*429/);
  assert.match(await outcome('/404'), /^permanent: .*404/);
});

test('webhook delivery: the request’s own time limit, a response over 1 MiB, a refused connection and shutdown each end the attempt with a reason', async (t) => {
  const s = await server(t);
  s.route('/hang', hang());
  s.route('/huge', hugeBody(3 * 1024 * 1024));
  const exec = webhookExecutor();
  t.after(() => exec.close?.());
  const t0 = Date.now();
  await assert.rejects(exec.run({ webhook: { url: s.url('/hang'), timeoutMs: 300 } }, ctx()), /timed out/);
  assert.ok(Date.now() - t0 < 10_000, 'the time limit ended it');
  await assert.rejects(exec.run({ webhook: { url: s.url('/huge') } }, ctx()), /too large/);
  const closedPort = await freePort();
  await assert.rejects(exec.run({ webhook: { url: `http://127.0.0.1:${closedPort}/x` } }, ctx()), /refused/);
  const stop = new AbortController();
  const running = exec.run({ webhook: { url: s.url('/hang') } }, ctx(stop.signal));
  setTimeout(() => stop.abort(new Error('shutting down')), 100);
  await assert.rejects(running, /shutting down/);
});

test('webhook delivery: a url that is not http(s) is a permanent failure', async (t) => {
  const exec = webhookExecutor();
  t.after(() => exec.close?.());
  await assert.rejects(exec.run({ webhook: { url: 'file:///etc/passwd' } }, ctx()), (err: Error & { permanent?: boolean }) => Boolean(err.permanent));
  await assert.rejects(exec.run({ webhook: { url: 'not a url' } }, ctx()), (err: Error & { permanent?: boolean }) => Boolean(err.permanent));
});

test('webhook delivery: actions to one host reuse a kept-alive connection', async (t) => {
  const s = await server(t);
  const got = recorder(s, '/in');
  const exec = webhookExecutor();
  t.after(() => exec.close?.());
  for (let i = 0; i < 20; i++) await exec.run({ webhook: { url: s.url('/in'), body: { i } } }, ctx());
  assert.equal(got.length, 20);
  // Not exactly one: a client may open a second connection while the first is being handed back.
  assert.ok(new Set(got.map((g) => g.port)).size <= 2, 'connections kept alive, not one per delivery');
});

test('webhook delivery: a kept-alive connection the server dropped without answering is not a failed attempt: the request goes again on a new one', async (t) => {
  const s = await server(t);
  const served = new WeakSet<object>();
  let resets = 0;
  const got: string[] = [];
  s.route('/in', async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    // The second request on a connection finds it closed, as when a server's idle timeout and our reuse cross.
    if (served.has(req.socket)) {
      resets++;
      return void req.socket.resetAndDestroy();
    }
    served.add(req.socket);
    got.push(body);
    res.writeHead(204).end();
  });
  const exec = webhookExecutor();
  t.after(() => exec.close?.());
  await exec.run({ webhook: { url: s.url('/in'), body: 'one' } }, ctx());
  await new Promise((r) => setTimeout(r, 50)); // the connection is back in the pool
  await exec.run({ webhook: { url: s.url('/in'), body: 'two' } }, ctx());
  assert.deepEqual(got, ['one', 'two']);
  assert.equal(resets, 1);
});

test('webhook delivery: an https receiver whose certificate nobody trusts is refused', async (t) => {
  const pki = createTestPki();
  t.after(() => pki.close());
  const tls = https.createServer({ cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) }, (_req, res) => res.writeHead(204).end());
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => tls.close(r)));
  const exec = webhookExecutor();
  t.after(() => exec.close?.());
  await assert.rejects(exec.run({ webhook: { url: `https://127.0.0.1:${(tls.address() as AddressInfo).port}/in`, body: 'x' } }, ctx()), /certificate/);
});
