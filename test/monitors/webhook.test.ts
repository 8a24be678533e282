import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import webhook, { WebhookRegistry, webhookRoute, handleWebhook } from '../../monitors/webhook/index.js';
import type { NewEvent } from '../../core/event.js';
import { dryRunMonitor } from '../../core/monitor-host.js';
import { startWithHost, waitFor } from './web-test-context.js';

const SECRET = 'correct horse battery staple';
const registry = new WebhookRegistry();
const stored: NewEvent[] = [];
registry.register({ id: 'deploy', secret: SECRET, name: 'Deploys', emit: async (e) => void stored.push(e) });

let server: http.Server;
let base = '';
before(async () => {
  const route = webhookRoute(registry);
  const global = webhookRoute();
  server = http.createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://x');
    // The global registry is mounted under /g so the monitor test below goes through the real definition.
    if (url.pathname.startsWith('/g/')) {
      req.url = req.url!.slice(2);
      if (await global(req, res)) return;
    } else if (await route(req, res, url)) return;
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

interface Reply {
  status: number;
  json: { ok: boolean; error?: string } | null;
}

/** A raw request, so tests control chunking and content-length and survive the server closing early. */
function post(path: string, body: string | Buffer | Buffer[], headers: Record<string, string> = {}, method = 'POST'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : null });
      });
    });
    // The server may answer 413 and close while we are still sending: the answer is what counts.
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'EPIPE' || (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    for (const part of Array.isArray(body) ? body : [body]) req.write(part);
    req.end();
  });
}

const json = (o: unknown) => JSON.stringify(o);

test('a JSON body with the secret in the header becomes the event fields', async () => {
  stored.length = 0;
  const r = await post('/hooks/deploy', json({ title: 'Deployed v1.4', service: 'api', ok: true, url: 'https://ci.example/1' }), { 'content-type': 'application/json', 'x-panoptes-secret': SECRET });
  assert.deepEqual(r, { status: 200, json: { ok: true } });
  assert.equal(stored.length, 1);
  const e = stored[0]!;
  assert.equal(e.type, 'webhook.received');
  assert.equal(e.title, 'Deployed v1.4');
  assert.equal(e.url, 'https://ci.example/1');
  assert.deepEqual(e.fields, { title: 'Deployed v1.4', service: 'api', ok: true, url: 'https://ci.example/1' });
});

test('a form body with the secret as Bearer token or in the query; repeated keys become arrays', async () => {
  stored.length = 0;
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  assert.equal((await post('/hooks/deploy', 'message=Backup+done&tag=a&tag=b', { ...form, authorization: `Bearer ${SECRET}` })).status, 200);
  assert.equal((await post(`/hooks/deploy?secret=${encodeURIComponent(SECRET)}`, 'message=from+query', form)).status, 200);
  assert.deepEqual(stored.map((e) => e.fields), [{ message: 'Backup done', tag: ['a', 'b'] }, { message: 'from query' }]);
  assert.equal(stored[0]!.title, 'Backup done');
});

test('nobody learns which hooks exist: an unknown hook answers exactly like a known one with a wrong secret', async () => {
  const known = await post('/hooks/deploy', json({ a: 1 }), { 'content-type': 'application/json', 'x-panoptes-secret': 'a-wrong-secret-of-some-length' });
  const unknown = await post('/hooks/does-not-exist', json({ a: 1 }), { 'content-type': 'application/json', 'x-panoptes-secret': 'a-wrong-secret-of-some-length' });
  assert.equal(unknown.status, known.status);
  assert.deepEqual(unknown.json, known.json);
});

test('form keys named __proto__, constructor or prototype become plain fields, not the object’s machinery', async () => {
  stored.length = 0;
  const form = { 'content-type': 'application/x-www-form-urlencoded', 'x-panoptes-secret': SECRET };
  const r = await post('/hooks/deploy', '__proto__=x&constructor=y&prototype=z&toString=w&message=ok', form);
  assert.equal(r.status, 200);
  const fields = stored[0]!.fields as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(fields), Object.prototype);
  assert.deepEqual(Object.entries(fields), [['__proto__', 'x'], ['constructor', 'y'], ['prototype', 'z'], ['toString', 'w'], ['message', 'ok']]);
});

test('refusals store nothing: wrong or missing secret and unknown hook get the same 401, GET 405, bad JSON 400, odd type 415', async () => {
  stored.length = 0;
  const j = { 'content-type': 'application/json' };
  const cases: Array<[string, Promise<Reply>, number]> = [
    ['wrong secret', post('/hooks/deploy', json({ a: 1 }), { ...j, 'x-panoptes-secret': 'guess' }), 401],
    ['missing secret', post('/hooks/deploy', json({ a: 1 }), j), 401],
    ['secret prefix', post('/hooks/deploy', json({ a: 1 }), { ...j, 'x-panoptes-secret': SECRET.slice(0, -1) }), 401],
    ['unknown hook', post('/hooks/nope', json({ a: 1 }), { ...j, 'x-panoptes-secret': SECRET }), 401],
    ['GET without the secret', post('/hooks/deploy', '', {}, 'GET'), 401],
    ['GET', post('/hooks/deploy', '', { 'x-panoptes-secret': SECRET }, 'GET'), 405],
    ['bad JSON', post('/hooks/deploy', '{"a":', { ...j, 'x-panoptes-secret': SECRET }), 400],
    ['multipart', post('/hooks/deploy', '--x--', { 'content-type': 'multipart/form-data; boundary=x', 'x-panoptes-secret': SECRET }), 415],
  ];
  for (const [name, reply, status] of cases) {
    const r = await reply;
    assert.equal(r.status, status, name);
    assert.equal(r.json?.ok, false, name);
    assert.ok(!JSON.stringify(r.json).includes(SECRET.slice(0, 8)), `${name}: the reply never echoes the secret`);
  }
  assert.equal(stored.length, 0);
});

test('a body over 1 MiB is refused with 413, whether declared by content-length or streamed in chunks', async () => {
  stored.length = 0;
  const big = Buffer.alloc(1024 * 1024 + 1, 'a');
  const declared = await post('/hooks/deploy', big, { 'content-type': 'text/plain', 'x-panoptes-secret': SECRET, 'content-length': String(big.length) });
  assert.equal(declared.status, 413);
  const chunks = Array.from({ length: 20 }, () => Buffer.alloc(64 * 1024, 'b')); // 1.25 MiB, chunked
  const streamed = await post('/hooks/deploy', chunks, { 'content-type': 'text/plain', 'x-panoptes-secret': SECRET, 'transfer-encoding': 'chunked' });
  assert.equal(streamed.status, 413);
  assert.equal(stored.length, 0);
  const exactly = await post('/hooks/deploy', Buffer.alloc(1024 * 1024, 'c'), { 'content-type': 'text/plain', 'x-panoptes-secret': SECRET });
  assert.equal(exactly.status, 200, '1 MiB exactly is accepted');
  assert.equal((stored[0]!.fields!.text as string).length, 1024 * 1024);
});

test('JSON that is not an object arrives as fields.value; the handler also works on bytes already read', async () => {
  const r = await handleWebhook({ method: 'POST', url: '/hooks/deploy', headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` }, body: '[1,2,3]' }, (id) => registry.get(id));
  assert.equal(r.status, 200);
  assert.deepEqual(r.event!.fields, { value: [1, 2, 3] });
});

test('the webhook monitor registers its hook while running, under the real host, with its secret from the secret store', async (t) => {
  const events: NewEvent[] = [];
  const run = await startWithHost(webhook, { hookId: 'alerts' }, { onEmit: (e) => void events.push(e), secrets: { secret: 'a-long-enough-secret-value' } });
  t.after(() => run.stop());
  await waitFor(() => run.health.some((h) => h.status === 'ok'), 'started');
  const r = await post('/g/hooks/alerts', json({ subject: 'Disk almost full' }), { 'content-type': 'application/json', 'x-panoptes-secret': 'a-long-enough-secret-value' });
  assert.equal(r.status, 200);
  assert.equal(events.length, 1);
  assert.equal(events[0]!.title, 'Disk almost full');
  await run.stop();
  assert.equal((await post('/g/hooks/alerts', json({}), { 'content-type': 'application/json', 'x-panoptes-secret': 'a-long-enough-secret-value' })).status, 401, 'gone once stopped (answered like any unknown hook)');
});

test('monitor test: nothing to show until someone posts; no secret is a clear error; the secret field is marked secret', async () => {
  assert.deepEqual(await dryRunMonitor(webhook, { hookId: 'x' }, { secret: 'a-long-enough-secret-value' }), []);
  await assert.rejects(dryRunMonitor(webhook, { hookId: 'x' }), /set a secret/);
  await assert.rejects(dryRunMonitor(webhook, { hookId: '../etc' }), /hookId/);
  const { secretFields } = await import('../../core/monitor-host.js');
  assert.deepEqual(secretFields(webhook), ['secret']);
});

test('a sender that repeats its Idempotency-Key (a retry after a lost answer or a crash) is answered 200 and stored once', async (t) => {
  const events: NewEvent[] = [];
  const run = await startWithHost(webhook, { hookId: 'deploys-once' }, { onEmit: (e) => void events.push(e), secrets: { secret: 'a-long-enough-secret-value' } });
  t.after(() => run.stop());
  await waitFor(() => run.health.some((h) => h.status === 'ok'), 'started');
  const send = (key: string | null, n: number) =>
    post('/g/hooks/deploys-once', json({ title: `deploy ${n}` }), { 'content-type': 'application/json', 'x-panoptes-secret': 'a-long-enough-secret-value', ...(key ? { 'idempotency-key': key } : {}) });
  assert.equal((await send('k-1', 1)).status, 200);
  const again = await send('k-1', 1);
  assert.equal(again.status, 200, 'the repeat is not an error for the sender');
  assert.equal((await Promise.all([send('k-2', 2), send('k-2', 2), send('k-2', 2)])).every((r) => r.status === 200), true);
  assert.equal((await send(null, 3)).status, 200);
  assert.equal((await send(null, 3)).status, 200, 'without a key every request is new');
  assert.deepEqual(events.map((e) => e.title), ['deploy 1', 'deploy 2', 'deploy 3', 'deploy 3']);
});
