import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import WebSocket from 'ws';
import { statSync } from 'node:fs';
import path from 'node:path';
import { startAgent } from '../helpers/agent-process.js';
import { tempDir } from '../helpers/tmp.js';

function rawGet(port: number, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/', headers }, (res) => {
      res.resume();
      resolve({ status: res.statusCode!, headers: res.headers });
    });
    req.on('error', reject);
    req.end();
  });
}

function wsOpen(url: string, opts: WebSocket.ClientOptions & { protocols?: string[] }): Promise<{ ok: boolean; status?: number; ws?: WebSocket }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, opts.protocols ?? [], opts);
    ws.once('open', () => resolve({ ok: true, ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ ok: false, status: res.statusCode }));
    ws.once('error', () => resolve({ ok: false }));
  });
}

test('the agent listens on loopback only and guards the protocol with token, Host and Origin', async (t) => {
  const dir = tempDir(t);
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const port = agent.port;

  const ok = await rawGet(port, { Host: `127.0.0.1:${port}` });
  assert.equal(ok.status, 200);
  assert.match(String(ok.headers['content-security-policy']), /script-src 'self'/);
  assert.match(String(ok.headers['content-security-policy']), /frame-ancestors 'none'/);
  assert.equal((await rawGet(port, { Host: `attacker.example:${port}` })).status, 421, 'DNS rebinding: foreign Host refused');
  assert.equal((await rawGet(port, { Host: `127.0.0.1:${port}`, Origin: 'http://evil.example' })).status, 403);

  const url = `ws://127.0.0.1:${port}/ws`;
  const good = await wsOpen(url, { protocols: ['panoptes.v1', `token.${agent.token}`], origin: agent.origin });
  assert.ok(good.ok, 'the UI with the token connects');
  const reply = await new Promise<any>((resolve) => {
    good.ws!.once('message', (d) => resolve(JSON.parse(String(d))));
    good.ws!.send(JSON.stringify({ kind: 'req', id: 1, method: 'hello', params: {} }));
  });
  assert.equal(reply.ok, true);
  assert.equal(reply.result.version, 1);
  good.ws!.close();

  assert.equal((await wsOpen(url, { protocols: ['panoptes.v1'], origin: agent.origin })).status, 401, 'no token');
  assert.equal((await wsOpen(url, { protocols: ['panoptes.v1', 'token.wrong-token-wrong-token-wrong-token-xx'], origin: agent.origin })).status, 401);
  assert.equal((await wsOpen(url, { protocols: ['panoptes.v1', `token.${agent.token}`], origin: 'http://evil.example' })).status, 403, 'another site cannot use a leaked token from a browser');
  assert.equal((await wsOpen(url, { protocols: ['panoptes.v1', `token.${agent.token}`], headers: { Host: 'evil.example' } })).status, 421);
  assert.ok((await wsOpen(url, { headers: { Authorization: `Bearer ${agent.token}` }, protocols: ['panoptes.v1'] })).ok, 'non-browser clients use a bearer header');

  assert.equal((statSync(path.join(dir, 'agent-token')).mode & 0o777).toString(8), '600');
  const other = await rawGet(port, { Host: `localhost:${port}` });
  assert.equal(other.status, 200);
});

test('a damaged database stops the agent with recovery advice instead of overwriting it', async (t) => {
  const dir = tempDir(t);
  const { writeFileSync, readFileSync } = await import('node:fs');
  writeFileSync(path.join(dir, 'panoptes.db'), 'garbage that used to be a database');
  await assert.rejects(startAgent(dir), /will not overwrite it[\s\S]*\.recover/);
  assert.equal(readFileSync(path.join(dir, 'panoptes.db'), 'utf8'), 'garbage that used to be a database');
});
