/**
 * The desktop engine (the real engine/utility-main.js the app forks, in a worker shaped like Electron's
 * utilityProcess) serves the monitor types' routes itself: a webhook monitor added there receives posts on
 * 127.0.0.1, at the address its form shows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { startDesktopEngine } from './desktop-engine.js';

const SECRET = 'a-long-enough-hook-secret';

test('a webhook monitor added in the desktop engine receives posts at the address its form shows', async (t) => {
  const { client: rpc } = await startDesktopEngine(t, tempDir(t));
  const webhook = (await rpc.call('monitors.types', {})).find((m) => m.type === 'webhook');
  assert.ok(webhook, 'the webhook type is offered');
  const route = webhook.routes[0];
  assert.ok(route?.url, `the form shows where it receives (problem: ${route?.problem})`);
  assert.match(route.url, /^http:\/\/127\.0\.0\.1:\d+\/hooks\/$/);

  const added = await rpc.call('monitors.add', { type: 'webhook', name: 'CI', config: { hookId: 'ci', secret: SECRET } });
  const post = (secret: string, body: unknown) =>
    fetch(`${route.url}ci`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-panoptes-secret': secret }, body: JSON.stringify(body) });
  await waitFor(async () => (await post(SECRET, { build: 1 })).status === 200, 'the hook answers once the monitor runs');
  assert.equal((await post('wrong-secret-wrong-secret', { build: 666 })).status, 401);
  assert.equal((await post(SECRET, { build: 2 })).status, 200);
  assert.equal((await fetch(route.url.replace(/\/hooks\/$/, '/'))).status, 404, 'nothing but the routes is served there');

  const events = await waitFor(async () => {
    const page = await rpc.call('events.list', { type: 'webhook.received' });
    return page.events.length >= 2 ? page.events : null;
  }, 'webhook events');
  assert.deepEqual(events.map((e) => e.fields.build).sort(), [1, 2]);
  assert.ok(events.every((e) => e.source === added.id));
});

// The desktop's route server is guarded like the agent's (base/connection-guard.ts): half-sent requests held open
// beyond the cap give way, oldest first, and a webhook posted meanwhile is answered.
test('half-sent requests flooding the desktop route server are capped and a webhook still gets in', { timeout: 180_000 }, async (t) => {
  const { client: rpc } = await startDesktopEngine(t, tempDir(t));
  const route = (await rpc.call('monitors.types', {})).find((m) => m.type === 'webhook')!.routes[0]!;
  const port = Number(new URL(route.url!).port);
  await rpc.call('monitors.add', { type: 'webhook', name: 'CI', config: { hookId: 'ci', secret: SECRET } });
  const post = () => fetch(`${route.url}ci`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-panoptes-secret': SECRET }, body: '{"build":1}', signal: AbortSignal.timeout(20_000) });
  await waitFor(async () => (await post()).status === 200, 'the hook answers once the monitor runs');

  const FLOOD = 600;
  const flood = new Set<net.Socket>();
  let closedByServer = 0;
  t.after(() => {
    for (const s of flood) s.destroy();
  });
  for (let i = 0; i < FLOOD; i++) {
    const s = net.connect(port, '127.0.0.1');
    flood.add(s);
    s.on('connect', () => s.write(`POST /hooks/ci HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `));
    s.on('error', () => {});
    s.on('close', () => {
      flood.delete(s);
      closedByServer++;
    });
  }
  await waitFor(() => [...flood].every((s) => !s.connecting), 'the flood connected', 60_000);
  assert.equal((await post()).status, 200, 'a webhook is answered while the flood is held');
  // 256 connections without a finished request are kept at most (the guard's cap); the rest were closed.
  await waitFor(() => flood.size <= 256, `at most 256 half-sent requests held (now ${flood.size})`, 30_000);
  assert.ok(closedByServer >= FLOOD - 256, `${closedByServer} of ${FLOOD} closed by the server`);
});
