/**
 * Starts the desktop app's engine as the desktop shell does: the real engine/utility-main.js the app forks, in a
 * worker thread shaped like Electron's utilityProcess (see utility-host.ts), with `--data DIR`. Returns a protocol
 * client over a MessagePort, as the shell's main process and windows get one.
 */
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import { RpcClient } from '../../core/rpc/client.js';
import type { WireMessage } from '../../core/protocol.js';

const entry = new URL('../../engine/utility-main.js', import.meta.url).href;
const hostScript = new URL('./utility-host.js', import.meta.url);

export interface DesktopEngine {
  client: RpcClient;
  output: () => string;
  /** An OS signal as the shell hands it over (stored like any monitor's event). */
  emit(source: string, event: { type: string; title: string }): void;
  /** Shut it down the way the shell does on Quit, and wait until the engine is gone. */
  stop(): Promise<void>;
}

export async function startDesktopEngine(t: { after(fn: () => unknown): void }, dataDir: string): Promise<DesktopEngine> {
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
  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      client.close();
      post({ type: 'shutdown' });
      await exited;
    })());
  t.after(stop);
  return { client, output: () => output, emit: (source, event) => post({ type: 'emit', source, event }), stop };
}
