/**
 * The desktop engine (the real engine/utility-main.js the app forks, in a worker shaped like Electron's
 * utilityProcess) serves the monitor types' routes itself: a webhook monitor added there receives posts on
 * 127.0.0.1, at the address its form shows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import { RpcClient } from '../../core/rpc/client.js';
import type { WireMessage } from '../../core/protocol.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

const entry = new URL('../../engine/utility-main.js', import.meta.url).href;
const hostScript = new URL('./utility-host.js', import.meta.url);
const SECRET = 'a-long-enough-hook-secret';

async function startDesktopEngine(t: { after(fn: () => unknown): void }, dataDir: string): Promise<RpcClient> {
  const worker = new Worker(hostScript, { argv: ['--data', dataDir], workerData: { entry }, stdout: true, stderr: true });
  let output = '';
  worker.stdout.on('data', (b: Buffer) => (output += b.toString()));
  worker.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  const post = (data: unknown, ports: MessagePort[] = []) => worker.postMessage({ data, ports }, ports as never);
  await new Promise<void>((resolve, reject) => {
    worker.on('message', (msg: { type?: string }) => msg?.type === 'ready' && resolve());
    worker.once('error', reject);
    void exited.then((code) => reject(new Error(`engine exited (${code}) before it was ready:\n${output}`)));
  });
  const { port1, port2 } = new MessageChannel();
  post({ type: 'connect' }, [port1]);
  const client = new RpcClient({
    send: (m: WireMessage) => port2.postMessage(m),
    onMessage: (l) => void port2.on('message', l),
    onClose: (l) => void port2.on('close', l),
    close: () => port2.close(),
  });
  t.after(async () => {
    client.close();
    post({ type: 'shutdown' });
    await exited;
  });
  return client;
}

test('a webhook monitor added in the desktop engine receives posts at the address its form shows', async (t) => {
  const rpc = await startDesktopEngine(t, tempDir(t));
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
