// A webhook body over the size cap — sent chunked (no Content-Length) or announced too large — must still get its
// answer: a 413 that says why, not a reset connection the sender can only guess about. Against the real agent, with a
// request that keeps streaming until the server answers; afterwards the agent still takes hooks. The sender asks for
// `Connection: close` (Node's client does with no agent, as many one-shot senders do): a server that closes at once
// after its answer while the body still comes resets the connection, and the sender's write fails (EPIPE) before it
// reads the answer — on about one attempt in six here (session 11, 200 attempts side by side), so many attempts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startAgent, type RunningAgent } from '../helpers/agent-process.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

const SECRET = 'chunked-cap-secret-0123456789';
const CHUNK = Buffer.alloc(64 * 1024, 'a');

interface Outcome {
  status?: number;
  body?: string;
  error?: string;
  sentBytes: number;
}

/**
 * POST chunks of 64 KiB until the server answers, errors, or `maxBytes` were sent: chunked (no Content-Length), or
 * announcing `maxBytes` as its Content-Length.
 */
function streamBody(agent: RunningAgent, maxBytes: number, announce: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    let sent = 0;
    let settled = false;
    const finish = (o: Omit<Outcome, 'sentBytes'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...o, sentBytes: sent });
    };
    const req = http.request(
      { host: '127.0.0.1', port: agent.port, method: 'POST', path: '/hooks/ci', headers: { 'content-type': 'text/plain', 'x-panoptes-secret': SECRET, ...(announce ? { 'content-length': String(maxBytes) } : {}) }, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => finish({ status: res.statusCode!, body: text }));
        res.on('error', (err) => finish({ status: res.statusCode!, body: text, error: String(err) }));
      },
    );
    req.on('error', (err) => finish({ error: `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}` }));
    const pump = () => {
      while (!settled && !req.destroyed && sent < maxBytes) {
        sent += CHUNK.length;
        if (!req.write(CHUNK)) return void req.once('drain', pump);
      }
      if (!settled && !req.destroyed && sent >= maxBytes) req.end();
    };
    pump();
  });
}

test('a webhook body over the size cap, chunked or announced, is answered 413 with a reason, and the agent keeps serving', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ monitors: [{ id: 'webhook:ci', type: 'webhook', name: 'CI', config: { hookId: 'ci' } }] }));
  writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ 'webhook:ci': { secret: SECRET } }), { mode: 0o600 });
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const post = (body: string) => fetch(`${agent.origin}/hooks/ci`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-panoptes-secret': SECRET } });
  await waitFor(async () => (await post('{"warmup":1}')).status === 200, 'hook ready', 30_000);

  // Many attempts of each: a reset that races the answer shows up on some attempts and not others.
  for (const announce of [false, true]) {
    for (let i = 0; i < 25; i++) {
      const o = await streamBody(agent, 8 * 1024 * 1024, announce);
      const how = announce ? 'announced' : 'chunked';
      assert.equal(o.status, 413, `${how}, attempt ${i + 1}: the sender gets a 413 (got ${JSON.stringify(o)})`);
      assert.match(o.body ?? '', /larger than \d+ bytes/, `${how}, attempt ${i + 1}: the answer says why`);
    }
  }

  const after = await post('{"title":"still here"}');
  assert.equal(after.status, 200, 'the agent still takes hooks');
});
