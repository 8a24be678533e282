// A webhook body over the size cap — sent chunked (no Content-Length) or announced too large — must still get its
// answer: a 413 that says why, not a reset connection the sender can only guess about. Against the real agent, with a
// request that keeps streaming until the server answers; afterwards the agent still takes hooks. The sender asks for
// `Connection: close` (Node's client does with no agent, as many one-shot senders do): a server that closes at once
// after its answer while the body still comes resets the connection, and the sender's write fails (EPIPE) before it
// reads the answer — on about one attempt in six here (session 11, 200 attempts side by side), so many attempts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startHookAgent, type RunningAgent } from '../helpers/agent-process.js';
import { waitFor } from '../helpers/tmp.js';

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
function streamBody(agent: RunningAgent, maxBytes: number, announce: boolean, to = '/hooks/ci'): Promise<Outcome> {
  return new Promise((resolve) => {
    let sent = 0;
    let settled = false;
    const finish = (o: Omit<Outcome, 'sentBytes'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...o, sentBytes: sent });
    };
    const req = http.request(
      { host: '127.0.0.1', port: agent.port, method: 'POST', path: to, headers: { 'content-type': 'text/plain', 'x-panoptes-secret': SECRET, ...(announce ? { 'content-length': String(maxBytes) } : {}) }, agent: false },
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

/**
 * A sender that never stops: a raw connection writing a chunked body until the connection is closed (or 256 MiB
 * went out), reading whatever comes back meanwhile. (Node's client counts a close after a complete answer as no error
 * and stops writing, so a socket of our own.)
 */
function streamForever(agent: RunningAgent): Promise<{ answer: string; sentBytes: number; closed: boolean }> {
  return new Promise((resolve) => {
    let sent = 0;
    let answer = '';
    let ended = false;
    const end = (closed: boolean) => {
      if (ended) return;
      ended = true;
      socket.destroy();
      resolve({ answer, sentBytes: sent, closed });
    };
    const socket = net.connect(agent.port, '127.0.0.1', () => {
      socket.write(`POST /hooks/ci HTTP/1.1\r\nHost: 127.0.0.1:${agent.port}\r\nContent-Type: text/plain\r\nX-Panoptes-Secret: ${SECRET}\r\nTransfer-Encoding: chunked\r\n\r\n`);
      const chunk = Buffer.concat([Buffer.from(`${CHUNK.length.toString(16)}\r\n`), CHUNK, Buffer.from('\r\n')]);
      const pump = () => {
        while (!ended && sent < 256 * 1024 * 1024) {
          sent += CHUNK.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
        end(false);
      };
      pump();
    });
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', () => end(true));
    socket.on('close', () => end(true));
  });
}

test('a webhook body over the size cap, chunked or announced, is answered 413 with a reason, and the agent keeps serving', { timeout: 180_000 }, async (t) => {
  const { agent } = await startHookAgent(t, SECRET);
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

  // A heartbeat does not read bodies (the ping is the request), but a cron job may post its whole output to it
  // (`curl --data-binary @run.log …/fail`): the ping counts, and the sender learns so instead of a reset.
  for (let i = 0; i < 25; i++) {
    const o = await streamBody(agent, 8 * 1024 * 1024, true, '/hooks/heartbeat/backup/fail');
    assert.equal(o.status, 200, `heartbeat with a large body, attempt ${i + 1}: the sender gets its 200 (got ${JSON.stringify(o)})`);
  }

  // One that never stops gets the same answer, and then its connection is closed: it does not hold the server's
  // attention (or a file descriptor) for as long as it cares to send.
  const endless = await streamForever(agent);
  assert.match(endless.answer, /^HTTP\/1\.1 413 [^]*larger than \d+ bytes/, `the endless sender gets its 413 and reason too (sent ${endless.sentBytes} bytes)`);
  assert.ok(endless.closed, `the endless sender's connection is closed before it sent 256 MiB (sent ${endless.sentBytes})`);

  const after = await post('{"title":"still here"}');
  assert.equal(after.status, 200, 'the agent still takes hooks');
});
