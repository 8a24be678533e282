// The agent's local server: 1,100 half-sent requests used to exhaust its file descriptors and lock the UI out, and a
// client that does not read made the agent buffer everything sent to it. Connections are capped (the oldest
// unfinished ones give way to new ones, so the user's own page always gets in) and a client that falls too far
// behind is disconnected. Real sockets against the real agent process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import WebSocket from 'ws';
import { startAgent } from '../helpers/agent-process.js';
import { connectProtocol } from '../helpers/protocol-client.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { writeConfig } from '../forwarding/helpers.js';
import { openStore } from '../../core/store/index.js';
import type { PanoptesEvent } from '../../core/event.js';

const FLOOD = 1_100;
const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

test('1,100 half-sent requests held open do not lock out the UI, and the agent holds a bounded number of them', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  writeConfig(dir, { rules: [] });
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const pid = agent.child.pid!;
  // A desktop session's usual limit: with more connections than this, accept() fails and nobody gets in.
  execFileSync('prlimit', [`--pid=${pid}`, '--nofile=1024:1024']);
  const baseline = fdCount(pid);

  // The flood: requests whose headers never end, held open (those the agent closes stay closed).
  const flood = new Set<net.Socket>();
  let closedByAgent = 0;
  const open = () => {
    const s = net.connect(agent.port, '127.0.0.1');
    flood.add(s);
    s.on('connect', () => s.write(`POST /hooks/nothing HTTP/1.1\r\nHost: 127.0.0.1:${agent.port}\r\nX-Slow: `));
    s.on('error', () => {});
    s.on('close', () => {
      flood.delete(s);
      closedByAgent++;
    });
  };
  t.after(() => {
    for (const s of flood) s.destroy();
  });
  for (let i = 0; i < FLOOD; i++) open();
  await waitFor(() => [...flood].every((s) => !s.connecting), 'the flood connected', 60_000);

  // The user's page: its files and its protocol connection, while the flood is held.
  const page = await fetch(`${agent.origin}/`, { signal: AbortSignal.timeout(20_000) });
  assert.equal(page.status, 200, 'the UI page loads');
  await page.arrayBuffer();
  const client = await connectProtocol(agent);
  t.after(() => client.close());
  assert.ok((await client.call('hello', {}, 20_000)).agentId, 'the protocol answers');

  const held = fdCount(pid) - baseline;
  assert.ok(held < 600, `the agent holds ${held} descriptors more than at rest with ${FLOOD} half-sent requests (want well under its limit of 1,024)`);
  assert.ok(closedByAgent > 0, 'the oldest unfinished requests were closed to make room');
});

test('a client that stops reading is disconnected once too much waits for it, and the others are served', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  writeConfig(dir, { rules: [] });
  const store = openStore(dir);
  const batch: PanoptesEvent[] = [];
  const at = new Date().toISOString();
  for (let j = 0; j < 500; j++) batch.push({ id: `big${String(j).padStart(5, '0')}`, ts: at, receivedAt: at, source: 'rss:news', type: 'feed.item', title: `item ${j}`, body: 'b'.repeat(4_000), url: null, fields: {}, tags: [] });
  store.tx(() => store.events.append(batch));
  store.cursors.set('rules', store.events.maxSeq(), null);
  store.close();
  const agent = await startAgent(dir);
  t.after(() => agent.stop());

  const slow = new WebSocket(`ws://127.0.0.1:${agent.port}/ws`, ['panoptes.v1'], { headers: { Authorization: `Bearer ${agent.token}` } });
  await new Promise<void>((resolve, reject) => {
    slow.once('open', () => resolve());
    slow.once('error', reject);
  });
  slow.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => slow.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  // Stop reading, then ask for ~2 MB answers 100 times: 200 MB the agent would have to keep for this client.
  (slow as unknown as { _socket: net.Socket })._socket.pause();
  for (let i = 0; i < 100; i++) slow.send(JSON.stringify({ kind: 'req', id: i + 1, method: 'events.list', params: { limit: 500 } }));

  const other = await connectProtocol(agent);
  t.after(() => other.close());
  assert.ok((await other.call('hello', {}, 20_000)).agentId, 'another client is served meanwhile');
  // Read again: what was sent before the cut arrives, then the connection is closed.
  (slow as unknown as { _socket: net.Socket })._socket.resume();
  const end = await Promise.race([closed, new Promise<null>((r) => setTimeout(() => r(null), 60_000).unref())]);
  assert.ok(end, 'the slow client was disconnected');
  assert.match(agent.output(), /too slow|behind/i, 'the agent says why');
});
