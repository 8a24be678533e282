// A real Mosquitto broker for tests: loopback only, a free port, anonymous access, persistence in a temp folder
// (so a stop/start keeps queued QoS 1 messages of persistent sessions, as a real broker restart does). Run as
// `nobody` when the tests run as root. `stop()`/`start()` bring it down and back on the same port.
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export interface Mosquitto {
  host: string;
  port: number;
  url: string;
  dir: string;
  /** What the broker logged since the first start. */
  readonly log: string[];
  readonly running: boolean;
  start(): Promise<void>;
  /** SIGTERM: Mosquitto writes its persistence file and exits. */
  stop(): Promise<void>;
  /** Stop and remove the temp folder. */
  close(): Promise<void>;
}

export function mosquittoAvailable(): boolean {
  return existsSync(MOSQUITTO);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
// A test that crashes must not leave a broker behind holding its port.
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export async function startMosquitto(opts: { persistence?: boolean; extraConfig?: string[] } = {}): Promise<Mosquitto> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-mosquitto-'));
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    `persistence ${opts.persistence === false ? 'false' : 'true'}`,
    `persistence_location ${dir}/`,
    // Queues for offline persistent sessions must not drop what a test counts.
    'max_queued_messages 0',
    'max_queued_bytes 0',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    ...(asRoot ? ['user nobody'] : []),
    ...(opts.extraConfig ?? []),
  ];
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(conf, lines.join('\n') + '\n');
  if (asRoot) chownSync(dir, 65534, 65534);

  const log: string[] = [];
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  const broker: Mosquitto = {
    host: '127.0.0.1',
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    log,
    get running() {
      return child !== null;
    },
    async start() {
      if (child) return;
      const c = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      live.add(c);
      const collect = (d: Buffer) => log.push(...d.toString('utf8').split('\n').filter(Boolean));
      c.stdout!.on('data', collect);
      c.stderr!.on('data', collect);
      exited = new Promise((resolve) =>
        c.once('exit', () => {
          live.delete(c);
          if (child === c) child = null;
          resolve();
        }),
      );
      await waitListening(port, () => child !== c, log);
    },
    async stop() {
      const c = child;
      if (!c) return;
      const killer = setTimeout(() => c.kill('SIGKILL'), 5_000);
      c.kill('SIGTERM');
      await exited;
      clearTimeout(killer);
    },
    async close() {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await broker.start();
  return broker;
}

async function waitListening(port: number, gone: () => boolean, log: string[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (gone()) throw new Error(`mosquitto exited before it listened:\n${log.slice(-20).join('\n')}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`mosquitto did not listen on ${port}:\n${log.slice(-20).join('\n')}`);
}
