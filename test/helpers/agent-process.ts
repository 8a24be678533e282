import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './tmp.js';

export const PROJECT_ROOT = process.env.PANOPTES_ROOT ?? path.resolve(new URL('../../..', import.meta.url).pathname);
export const BIN = path.join(PROJECT_ROOT, 'bin', 'panoptes.js');

export interface RunningAgent {
  child: ChildProcess;
  /** The UI URL including `#token=…`. */
  openUrl: string;
  origin: string;
  port: number;
  token: string;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * Start `panoptes agent` as a real child process and wait for the line with its URL. `portArgs` default to a
 * free port each run; `[]` lets the agent use the port it remembers in the data folder.
 */
export async function startAgent(dataDir: string, extraArgs: string[] = [], command = 'agent', timeoutMs = 90_000, portArgs = ['--port', '0']): Promise<RunningAgent> {
  const child = spawn(process.execPath, [BIN, command, '--data', dataDir, ...portArgs, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PANOPTES_LOG: 'warn' } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const openUrl = await new Promise<string>((resolve, reject) => {
    // On a loaded machine a cold start can take tens of seconds; if it never comes, the child is killed, or its open
    // pipes would keep the test file alive forever after the failure.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`agent did not print its URL within ${timeoutMs / 1000} s:\n${out}`));
    }, timeoutMs);
    const check = () => {
      const m = /(http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited with ${code}:\n${out}`));
    });
  });
  const u = new URL(openUrl);
  return {
    child,
    openUrl,
    origin: u.origin,
    port: Number(u.port),
    token: u.hash.replace('#token=', ''),
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        // Already gone (exited, or ended by a signal: then exitCode stays null and no 'exit' event comes again).
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

/**
 * A real agent taking hooks on a fresh data folder: the webhook "ci" (/hooks/ci) and, unless `heartbeat` is false, the
 * heartbeat "backup" (/hooks/heartbeat/backup, every hour, no grace), each with `secret` in the 0600 secrets file as
 * the app keeps it. Stopped, and its folder removed, when the test ends. Its routes may take a moment to answer after
 * the URL is printed: each test waits for the one it uses.
 */
export async function startHookAgent(t: { after(fn: () => void | Promise<void>): void }, secret: string, options: { heartbeat?: boolean } = {}): Promise<{ agent: RunningAgent; dir: string }> {
  const dir = tempDir(t);
  const heartbeat = options.heartbeat ?? true;
  const monitors: unknown[] = [{ id: 'webhook:ci', type: 'webhook', name: 'CI', config: { hookId: 'ci' } }];
  const secrets: Record<string, { secret: string }> = { 'webhook:ci': { secret } };
  if (heartbeat) {
    monitors.push({ id: 'heartbeat:backup', type: 'heartbeat', name: 'Backup', config: { id: 'backup', every: '1h', grace: '0s' } });
    secrets['heartbeat:backup'] = { secret };
  }
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ monitors }));
  writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify(secrets), { mode: 0o600 });
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  return { agent, dir };
}
