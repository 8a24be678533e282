// Webhooks skip the Host and Origin checks (other programs call them, sometimes through a tunnel), so a page on
// another host can reach them: it used to learn which hook ids exist (401 for a hook, 404 for none). Against the real
// agent: an unknown hook or heartbeat answers exactly as a known one with a wrong or missing secret (status, body and
// headers), whatever the method, Host, Origin or body; and form keys named like the object's machinery stay fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startHookAgent, type RunningAgent } from '../helpers/agent-process.js';
import { waitFor } from '../helpers/tmp.js';
import { openStore } from '../../core/store/index.js';

const SECRET = 'a-long-enough-hook-secret-42';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A raw request (node:http lets us set Host and Origin as a foreign page or a tunnel would). */
function request(agent: RunningAgent, method: string, pathAndQuery: string, headers: Record<string, string>, body = ''): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: agent.port, method, path: pathAndQuery, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        const { date: _date, ...rest } = res.headers as Record<string, string>;
        resolve({ status: res.statusCode!, headers: rest, body: text });
      });
    });
    // An answer sent before a large body was read may break the pipe: the answer is what counts.
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'EPIPE' || (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    req.end(body);
  });
}

test('from a page on another host, an unknown hook or heartbeat answers exactly as a known one without its secret', { timeout: 120_000 }, async (t) => {
  const { agent } = await startHookAgent(t, SECRET);
  const json = { 'content-type': 'application/json' };
  await waitFor(async () => (await request(agent, 'POST', '/hooks/ci', { ...json, 'x-panoptes-secret': SECRET }, '{"warmup":1}')).status === 200, 'hook ready', 30_000);
  await waitFor(async () => (await request(agent, 'GET', `/hooks/heartbeat/backup?secret=${SECRET}`, {})).status === 200, 'heartbeat ready', 30_000);

  const foreign = { host: 'evil.example', origin: 'https://evil.example' };
  const probes: [string, string, string, Record<string, string>, string][] = [
    ['POST, wrong secret', 'POST', '/hooks/{id}', { ...foreign, ...json, 'x-panoptes-secret': 'a-wrong-secret-of-some-length' }, '{"a":1}'],
    ['POST, no secret', 'POST', '/hooks/{id}', { ...foreign, ...json }, '{"a":1}'],
    ['POST, wrong bearer, local Host', 'POST', '/hooks/{id}', { host: `127.0.0.1:${agent.port}`, ...json, authorization: 'Bearer wrong-wrong-wrong-wrong' }, '{"a":1}'],
    ['GET, wrong secret in the query', 'GET', '/hooks/{id}?secret=wrong-wrong-wrong', foreign, ''],
    ['OPTIONS (a preflight)', 'OPTIONS', '/hooks/{id}', { ...foreign, 'access-control-request-method': 'POST' }, ''],
    ['POST, a form', 'POST', '/hooks/{id}', { ...foreign, 'content-type': 'application/x-www-form-urlencoded' }, 'a=1'],
    ['POST, 2 MiB announced', 'POST', '/hooks/{id}', { ...foreign, ...json, 'content-length': String(2 * 1024 * 1024) }, ''],
    ['POST, a trailing slash', 'POST', '/hooks/{id}/', { ...foreign, ...json }, '{"a":1}'],
  ];
  for (const [what, method, shape, headers, body] of probes) {
    for (const [known, unknown] of [
      ['ci', 'nope'],
      ['heartbeat/backup', 'heartbeat/nope'],
    ] as const) {
      const a = await request(agent, method, shape.replace('{id}', known), headers, body);
      const b = await request(agent, method, shape.replace('{id}', unknown), headers, body);
      assert.equal(a.status, 401, `${what} to ${known}: refused`);
      assert.deepEqual(b, a, `${what}: /hooks/${unknown} answers exactly as /hooks/${known}`);
    }
  }
});

test('form fields named __proto__, constructor and prototype reach the stored event as plain fields', { timeout: 120_000 }, async (t) => {
  const { agent, dir } = await startHookAgent(t, SECRET, { heartbeat: false });
  const form = { 'content-type': 'application/x-www-form-urlencoded', 'x-panoptes-secret': SECRET };
  await waitFor(async () => (await request(agent, 'POST', '/hooks/ci', form, 'warmup=1')).status === 200, 'hook ready', 30_000);
  const sent = await request(agent, 'POST', '/hooks/ci', form, '__proto__=x&constructor=y&prototype=z&toString=w&hasOwnProperty=v&message=ok');
  assert.equal(sent.status, 200);
  const store = openStore(dir);
  t.after(() => store.close());
  const event = await waitFor(() => store.events.list({ type: 'webhook.received' }).events.find((e) => e.title === 'ok') ?? null, 'the event stored');
  assert.deepEqual(Object.entries(event.fields), [['__proto__', 'x'], ['constructor', 'y'], ['prototype', 'z'], ['toString', 'w'], ['hasOwnProperty', 'v'], ['message', 'ok']]);
  assert.equal(Object.getPrototypeOf(event.fields), Object.prototype, 'the prototype is untouched');
});
