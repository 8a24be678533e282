/**
 * The exchange between the desktop shell and the engine, end to end: the real engine entry the desktop app forks
 * (engine/utility-main.js, in a worker thread shaped like Electron's utilityProcess), the real vault and idle
 * sampler the main process uses, wired by the same handler. Only safeStorage (an AES stand-in) and
 * powerMonitor.getSystemIdleTime (a number the test controls) are not Electron's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker, MessageChannel } from 'node:worker_threads';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RpcClient } from '../../core/rpc/client.js';
import type { Channel } from '../../core/rpc/channel.js';
import type { WireMessage } from '../../core/protocol.js';
import { FileSecretStore } from '../../core/secrets.js';
import { SecretsVault, decodeVaultFile, ENCRYPTED_SECRETS_FILE, PLAIN_SECRETS_FILE } from '../../electron/secrets-vault.js';
import { IdleSampler } from '../../electron/idle-sampler.js';
import { engineMessageHandler } from '../../electron/engine-messages.js';
import { standInCipher, type StandInCipher } from './stand-in-cipher.js';
import type { MessagePort } from 'node:worker_threads';

const entry = new URL('../../engine/utility-main.js', import.meta.url).href;
const hostScript = new URL('./utility-host.js', import.meta.url);

interface Shell {
  client: RpcClient;
  output: () => string;
  shellLog: string[];
  stop(): Promise<void>;
}

/** Starts the engine the way electron/engine-process.ts does, and answers it the way main.ts does. */
async function startEngine(dataDir: string, cipher: StandInCipher, idleSeconds: () => number): Promise<Shell> {
  const worker = new Worker(hostScript, {
    argv: ['--data', dataDir, '--secrets-from-shell', '--idle-from-shell'],
    workerData: { entry },
    stdout: true,
    stderr: true,
    env: { ...process.env, PANOPTES_LOG_LEVEL: 'debug' },
  });
  let output = '';
  worker.stdout.on('data', (b: Buffer) => (output += b.toString()));
  worker.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const shellLog: string[] = [];
  const post = (data: unknown, ports: MessagePort[] = []) => worker.postMessage({ data, ports }, ports as never);
  const idle = new IdleSampler(idleSeconds, (m) => post(m));
  const handle = engineMessageHandler({ vault: new SecretsVault(dataDir, cipher, 'linux', (l) => shellLog.push(l)), idle, log: (l) => shellLog.push(l) });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (msg: { type?: string }) => {
      if (msg?.type === 'ready') resolve();
      else handle(msg, (answer) => post(answer));
    });
    worker.once('error', reject);
    void exited.then((code) => reject(new Error(`engine exited (${code}) before it was ready:\n${output}`)));
  });
  await ready;
  const { port1, port2 } = new MessageChannel();
  post({ type: 'connect' }, [port1 as unknown as MessagePort]);
  const channel: Channel = {
    send: (m: WireMessage) => port2.postMessage(m),
    onMessage: (l) => void port2.on('message', l),
    onClose: (l) => void port2.on('close', l),
    close: () => port2.close(),
  };
  const client = new RpcClient(channel);
  return {
    client,
    output: () => output,
    shellLog,
    async stop() {
      client.close();
      post({ type: 'shutdown' });
      await exited;
      idle.stop();
    },
  };
}

async function until<T>(what: string, fn: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function everyFile(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? everyFile(p) : [p];
  });
}

test('desktop secrets: the 0600 file is taken over, new secrets are stored only encrypted, and come back after a restart', { timeout: 120_000 }, async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'panoptes-shell-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  new FileSecretStore(dataDir).set('older-monitor', { password: 'from-the-plain-file' });
  const cipher = standInCipher();

  let shell = await startEngine(dataDir, cipher, () => 0);
  assert.equal(existsSync(path.join(dataDir, PLAIN_SECRETS_FILE)), false, 'the clear-text file was moved into the encrypted one');

  const password = 'pw-only-in-the-keychain-7301';
  const added = await shell.client.call('monitors.add', { type: 'rss', name: 'Private feed', enabled: false, config: { url: 'http://127.0.0.1:9/feed.xml', password } });
  assert.deepEqual(added.secretsSet, ['password']);
  const decrypt = async () => JSON.parse((await cipher.decrypt(decodeVaultFile(readFileSync(path.join(dataDir, ENCRYPTED_SECRETS_FILE), 'utf8')))).text);
  const saved = await until('the encrypted save', decrypt, (d) => d[added.id]?.password === password);
  assert.equal(saved['older-monitor'].password, 'from-the-plain-file');

  await shell.stop();
  // Nowhere on disk in clear (config document, SQLite database and its WAL, anything else), nor in the engine's log.
  for (const file of everyFile(dataDir)) assert.ok(!readFileSync(file).includes(password), `${path.relative(dataDir, file)} holds the password`);
  assert.ok(!shell.output().includes(password));
  assert.equal(existsSync(path.join(dataDir, PLAIN_SECRETS_FILE)), false, 'the engine never fell back to the 0600 file');

  shell = await startEngine(dataDir, cipher, () => 0);
  t.after(() => shell.stop());
  const list = await shell.client.call('monitors.list', {});
  assert.deepEqual(list.find((m) => m.id === added.id)?.secretsSet, ['password'], 'the engine got its secrets back from the shell');
  await shell.client.call('monitors.remove', { id: added.id });
  await until('the removal to be saved', decrypt, (d) => !(added.id in d));
});

test('desktop secrets without a keyring: the engine is told why and keeps the 0600 file', { timeout: 60_000 }, async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'panoptes-shell-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const shell = await startEngine(dataDir, standInCipher({ backend: 'basic_text' }), () => 0);
  t.after(() => shell.stop());
  const added = await shell.client.call('monitors.add', { type: 'rss', name: 'Feed', enabled: false, config: { url: 'http://127.0.0.1:9/f.xml', password: 'pw-0600' } });
  assert.equal(new FileSecretStore(dataDir).get(added.id).password, 'pw-0600');
  assert.equal(statSync(path.join(dataDir, PLAIN_SECRETS_FILE)).mode & 0o777, 0o600);
  assert.equal(existsSync(path.join(dataDir, ENCRYPTED_SECRETS_FILE)), false);
  assert.ok(shell.shellLog.some((l) => /kept in secrets\.json .*no keyring/.test(l)), shell.shellLog.join('\n'));
  assert.match(shell.output(), /secrets stay in the 0600 file: no keyring/);
});

test('desktop idle: powerMonitor readings relayed to the engine become idle.start (back-dated) and idle.end', { timeout: 60_000 }, async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'panoptes-shell-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  let lastInput = Date.now() - 4_000;
  let reads = 0;
  const shell = await startEngine(dataDir, standInCipher(), () => {
    reads++;
    return Math.floor((Date.now() - lastInput) / 1000);
  });
  t.after(() => shell.stop());
  assert.equal(reads, 0, 'nothing is read while no idle monitor runs');
  const stoppedAt = lastInput;
  const monitor = await shell.client.call('monitors.add', { type: 'idle', name: 'Away', config: { thresholdSeconds: 2, pollSeconds: 0.2, confirmActiveSeconds: 0 } });
  const events = (type: string) => shell.client.call('events.list', { type, limit: 5 }).then((p) => p.events);
  const [start] = await until('idle.start', () => events('idle.start'), (e) => e.length > 0);
  const back = Math.abs(Date.parse(start!.ts) - stoppedAt);
  assert.ok(back < 1_500, `idle.start is back-dated to the last input (off by ${back} ms)`);

  lastInput = Date.now();
  const [end] = await until('idle.end', () => events('idle.end'), (e) => e.length > 0);
  const idleMs = Number(end!.fields.idleMs);
  assert.ok(Math.abs(idleMs - (lastInput - stoppedAt)) < 1_500, `idle.end carries the idle duration (${idleMs} vs ${lastInput - stoppedAt})`);

  await shell.client.call('monitors.remove', { id: monitor.id });
  const after = await until('sampling to stop', async () => {
    const n = reads;
    await new Promise((r) => setTimeout(r, 600));
    return reads - n;
  }, (d) => d === 0, 10_000);
  assert.equal(after, 0, 'the shell stops reading once the idle monitor is gone');
});
