// A server that asked us to wait (429 + Retry-After) is not asked again after Panoptes restarts: the hold is kept in
// the data folder, and the restarted agent's health says the watch waits, and until when (#19 politeness).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startAgent } from '../helpers/agent-process.js';
import { connectProtocol } from '../helpers/protocol-client.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

interface Info {
  id: string;
  health: { status: string; message?: string | null; nextRetry?: string | null };
}

test('a 429 hold survives a restart: no request to that host before its time, and the health still shows the wait', { timeout: 240_000 }, async (t) => {
  let asked = 0;
  const server = http.createServer((_req, res) => {
    asked++;
    res.writeHead(429, { 'retry-after': '3600', 'content-type': 'text/plain' });
    res.end('slow down');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/busy`;
  const data = path.join(tempDir(t), 'data');
  mkdirSync(data);
  writeFileSync(path.join(data, 'config.json'), JSON.stringify({ monitors: [{ id: 'web:busy', type: 'web', name: 'Busy', config: { url, interval: '1m' } }], rules: [] }));

  const waiting = async (port: number, token: string): Promise<Info['health']> => {
    const client = await connectProtocol({ port, token });
    try {
      return await waitFor(async () => {
        const m = (await client.call<Info[]>('monitors.list', {})).find((x) => x.id === 'web:busy');
        return m?.health.nextRetry && /wait/.test(m.health.message ?? '') ? m.health : null;
      }, 'the watch to say it waits', 60_000);
    } finally {
      client.close();
    }
  };

  const first = await startAgent(data);
  let health;
  try {
    health = await waiting(Number(new URL(first.origin).port), first.token);
  } finally {
    await first.stop();
  }
  assert.equal(asked, 1);
  const until = Date.parse(health.nextRetry!);

  const second = await startAgent(data);
  try {
    const again = await waiting(Number(new URL(second.origin).port), second.token);
    assert.match(again.message ?? '', /asked to wait \(HTTP 429/, again.message ?? '');
    assert.ok(Math.abs(Date.parse(again.nextRetry!) - until) < 5_000, `the same time as before the restart: ${again.nextRetry} vs ${health.nextRetry}`);
  } finally {
    await second.stop();
  }
  assert.equal(asked, 1, 'the restarted agent did not ask the host that said to wait an hour');
});
