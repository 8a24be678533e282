// The CLI and a running engine on the same data folder: one writer. When the agent (or `npm start`'s headless
// fallback) runs, it says where in `agent.json`; the CLI then asks it to make changes instead of editing config.json
// under it, so the engine applies, validates and announces them at once (open pages update) and a change prepared
// from a configuration that changed in between is refused by its revision check.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { RpcClient } from '../core/rpc/client.js';
import { wsChannel } from '../engine/local-endpoint.js';

export interface RunningEngine {
  client: RpcClient;
  pid: number;
  url: string;
  /** "through the running Panoptes (pid 123)": said in the CLI's answers, so the user knows which path a change took. */
  via: string;
  close(): void;
}

interface AgentInfo {
  pid: number;
  port: number;
  url: string;
}

/** What `agent.json` names, when the process it names is alive (a crashed agent leaves the file behind). */
export function runningEngineInfo(dataDir: string): AgentInfo | null {
  let info: AgentInfo;
  try {
    info = JSON.parse(readFileSync(path.join(dataDir, 'agent.json'), 'utf8')) as AgentInfo;
  } catch {
    return null;
  }
  if (!Number.isInteger(info?.pid) || !Number.isInteger(info?.port)) return null;
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    // EPERM: alive but someone else's; it cannot be ours to talk to either way, but it is running.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  return info;
}

/**
 * Connect to the engine running on this data folder, or null when none runs. An engine that runs but does not answer
 * is an error (the caller must not edit its configuration behind its back either).
 */
export async function connectToRunningEngine(dataDir: string, timeoutMs = 10_000): Promise<RunningEngine | null> {
  const info = runningEngineInfo(dataDir);
  if (!info) return null;
  let token: string;
  try {
    token = readFileSync(path.join(dataDir, 'agent-token'), 'utf8').trim();
  } catch (err) {
    throw new Error(`Panoptes runs on ${dataDir} (pid ${info.pid}) but its token cannot be read: ${(err as Error).message}`);
  }
  const ws = new WebSocket(`ws://127.0.0.1:${info.port}/ws`, ['panoptes.v1'], { headers: { Authorization: `Bearer ${token}` } });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`Panoptes runs on ${dataDir} (pid ${info.pid}) but did not answer at ${info.url} within ${timeoutMs / 1000} s; nothing was changed`));
    }, timeoutMs);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`Panoptes runs on ${dataDir} (pid ${info.pid}) but cannot be reached at ${info.url}: ${err.message}; nothing was changed`));
    });
  });
  ws.on('error', () => {}); // a later failure closes the channel, which rejects what is pending
  const client = new RpcClient(wsChannel(ws));
  return { client, pid: info.pid, url: info.url, via: `through the running Panoptes (pid ${info.pid})`, close: () => ws.close() };
}
