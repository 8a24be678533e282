/**
 * The desktop app's rendered fetch across the engine/shell boundary: the real engine entry (engine/utility-main.js,
 * in a worker shaped like Electron's utilityProcess) started as electron/engine-process.ts starts it, with
 * `--render-from-shell`, and answered by the same handler main.ts uses (electron/engine-messages.ts). The offscreen
 * window is played by Debian's Chromium answering the very render messages (test/helpers/chromium-answerer.ts), and
 * PANOPTES_CHROMIUM points nowhere: a version can only come back through the shell.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { RpcClient } from '../../core/rpc/client.js';
import type { WireMessage } from '../../core/protocol.js';
import type { RenderRequestMessage } from '../../core/shell-messages.js';
import { SecretsVault } from '../../electron/secrets-vault.js';
import { IdleSampler } from '../../electron/idle-sampler.js';
import { engineMessageHandler } from '../../electron/engine-messages.js';
import { standInCipher } from './stand-in-cipher.js';
import { answerWithChromium } from '../helpers/chromium-answerer.js';
import { CHROMIUM, noChromium as skip } from '../helpers/public-address.js';

const entry = new URL('../../engine/utility-main.js', import.meta.url).href;
const hostScript = new URL('./utility-host.js', import.meta.url);

const page = `<!doctype html><html><body><button id="more">Show</button><p id="t"></p>
  <script>document.getElementById('more').onclick = () => { document.getElementById('t').textContent = 'Rendered through the shell'; }</script></body></html>`;

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The real engine entry with --render-from-shell, its shell messages answered by Chromium, a page served on loopback. */
async function startEngine(t: TestContext) {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/page`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'panoptes-render-shell-'));
  const worker = new Worker(hostScript, {
    argv: ['--data', dataDir, '--secrets-from-shell', '--idle-from-shell', '--render-from-shell'],
    workerData: { entry },
    stdout: true,
    stderr: true,
    env: { ...process.env, PANOPTES_CHROMIUM: path.join(dataDir, 'no-chromium') },
  });
  let output = '';
  worker.stdout.on('data', (b: Buffer) => (output += b.toString()));
  worker.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  const post = (data: unknown, ports: MessagePort[] = []) => worker.postMessage({ data, ports }, ports as never);
  const shellLog: string[] = [];
  const requests: RenderRequestMessage[] = [];
  const idle = new IdleSampler(() => 0, (m) => post(m));
  const handle = engineMessageHandler({
    vault: new SecretsVault(dataDir, standInCipher(), 'linux', (l) => shellLog.push(l)),
    idle,
    render: {
      render: (req, report) => (requests.push(req), answerWithChromium(req, CHROMIUM, report)),
      cancel: () => {},
    },
    log: (l) => shellLog.push(l),
  });
  await new Promise<void>((resolve, reject) => {
    worker.on('message', (msg: { type?: string }) => {
      if (msg?.type === 'ready') resolve();
      else handle(msg, (answer) => post(answer));
    });
    void exited.then((code) => reject(new Error(`engine exited (${code}):\n${output}`)));
  });
  const { port1, port2 } = new MessageChannel();
  post({ type: 'connect' }, [port1 as unknown as MessagePort]);
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
    idle.stop();
    server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { client, url, requests, shellLog };
}

test('desktop: a rendered web page is asked of the shell, which renders it through the engine\'s proxy', { skip, timeout: 240_000 }, async (t) => {
  const { client, url, requests, shellLog } = await startEngine(t);
  const monitor = await client.call('monitors.add', { type: 'web', name: 'Shell page', config: { url, render: true, steps: ['click:#more'], selector: '#t', timeout: '60s' } });
  await client.call('monitors.checkNow', { id: monitor.id });
  const { versions } = await until('a kept version', () => client.call('versions.list', { monitorId: monitor.id }), (v) => v.versions.length > 0);
  const v = await client.call('versions.get', { id: versions[0]!.id });
  assert.equal(v?.text, 'Rendered through the shell');
  assert.equal(versions[0]!.hasScreenshot, true);
  assert.ok(requests.length >= 1, 'the engine asked the shell');
  assert.equal(requests[0]!.url, url);
  assert.match(requests[0]!.proxy.server, /^http:\/\/127\.0\.0\.1:\d+$/, "the window is sent through the engine's proxy");
  assert.deepEqual(shellLog, []);
});

test('desktop: "Pick on the page" is asked of the shell too, without a Chromium on the machine', { skip, timeout: 240_000 }, async (t) => {
  const { client, url, requests, shellLog } = await startEngine(t);
  const pick = await client.call('monitors.pick', { type: 'web', config: { url, steps: ['click:#more'] } });
  const shown = pick.elements.find((e) => e.text === 'Rendered through the shell');
  assert.ok(shown, `the element the step filled is offered; got ${JSON.stringify(pick.elements.map((e) => e.text))}`);
  assert.equal(shown.selector, '#t');
  assert.ok(shown.w > 0 && shown.h > 0, 'it has a box on the picture');
  assert.equal(pick.url, url);
  assert.equal(Buffer.from(pick.screenshot, 'base64').subarray(0, 2).toString('hex'), 'ffd8', 'the picture is a JPEG');
  assert.ok(pick.width > 0 && pick.width <= 1280 && pick.height > 0);
  assert.equal(requests.length, 1, 'the engine asked the shell');
  assert.match(requests[0]!.proxy.server, /^http:\/\/127\.0\.0\.1:\d+$/, "the window is sent through the engine's proxy");
  assert.deepEqual(shellLog, []);
});
