/**
 * The real headless agent on a data folder the bench filled beforehand, and a protocol client that talks to it
 * the way the CLI does (WebSocket, bearer token), so timings include the wire, JSON and the service handler.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { WebSocket } from 'ws';
import { RpcClient } from '../../core/rpc/client.js';
import { wsChannel } from '../../server/http-server.js';

export interface RunningAgent {
  /** `http://127.0.0.1:PORT/#token=…`, what a user opens. */
  url: string;
  origin: string;
  token: string;
  stop(): Promise<void>;
}

export async function startAgentOn(root: string, dataDir: string): Promise<RunningAgent> {
  const child = spawn(process.execPath, [path.join(root, 'bin', 'panoptes.js'), 'agent', '--data', dataDir, '--port', '0'], {
    cwd: root,
    env: { ...process.env, PANOPTES_DATA: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const m = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the agent printed no address within 60 s:\n${out}`)), 60_000);
    const check = () => {
      const found = /(http:\/\/127\.0\.0\.1:\d+)\/#token=([A-Za-z0-9._~-]+)/.exec(out);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the agent exited (${code}) before printing its address:\n${out}`));
    });
  });
  return {
    url: m[0],
    origin: m[1]!,
    token: m[2]!,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

export async function connectClient(agent: RunningAgent): Promise<RpcClient> {
  const ws = new WebSocket(agent.origin.replace(/^http/, 'ws') + '/ws', ['panoptes.v1'], {
    headers: { Authorization: `Bearer ${agent.token}` },
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return new RpcClient(wsChannel(ws));
}
