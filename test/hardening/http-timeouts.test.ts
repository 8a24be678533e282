// A sender that trickles its body (or its headers) in holds a connection, a file descriptor and a parser: the
// agent's server ends such a request within seconds of its time limit, not after Node's 5 minutes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startHookAgent } from '../helpers/agent-process.js';
import { waitFor } from '../helpers/tmp.js';

const SECRET = 'trickle-secret-0123456789';

/** Open a connection, send `head`, then one byte a second; resolves with how long until the server ended it. */
function trickle(port: number, head: string, limitMs: number): Promise<number> {
  return new Promise((resolve) => {
    const started = Date.now();
    const s = net.connect(port, '127.0.0.1', () => s.write(head));
    const timer = setInterval(() => s.writable && s.write('x'), 1_000);
    const done = () => {
      clearInterval(timer);
      clearTimeout(cap);
      s.destroy();
      resolve(Date.now() - started);
    };
    const cap = setTimeout(done, limitMs);
    s.on('data', () => {}).on('close', done).on('error', () => {});
  });
}

test('a webhook body or request headers trickled in byte by byte are cut off within a minute', { timeout: 240_000 }, async (t) => {
  const { agent } = await startHookAgent(t, SECRET, { heartbeat: false });
  const port = Number(new URL(agent.origin).port);
  await waitFor(async () => (await fetch(`${agent.origin}/hooks/ci?secret=${SECRET}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status < 300, 'hook ready');
  const [body, headers] = await Promise.all([
    trickle(port, `POST /hooks/ci?secret=${SECRET} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"a":"`, 120_000),
    trickle(port, `POST /hooks/ci HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `, 120_000),
  ]);
  assert.ok(body < 60_000, `a trickled body is cut off within a minute, not after ${Math.round(body / 1000)} s`);
  assert.ok(headers < 30_000, `trickled headers are cut off within 30 s, not after ${Math.round(headers / 1000)} s`);
});
