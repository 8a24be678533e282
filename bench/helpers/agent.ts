/**
 * The real headless agent on a data folder the bench filled beforehand, and a protocol client that talks to it
 * the way the CLI does (WebSocket, bearer token), so timings include the wire, JSON and the service handler.
 */
import { WebSocket } from 'ws';
import { RpcClient } from '../../core/rpc/client.js';
import { wsChannel } from '../../engine/local-endpoint.js';
import { startAgent as startAgentProcess } from '../../test/helpers/agent-process.js';

export interface RunningAgent {
  /** `http://127.0.0.1:PORT/#token=…`, what a user opens. */
  url: string;
  origin: string;
  token: string;
  stop(): Promise<void>;
}

/** The agent as a child process on a filled data folder (a million events take a while to open: 120 s). */
export async function startAgentOn(_root: string, dataDir: string): Promise<RunningAgent> {
  const agent = await startAgentProcess(dataDir, [], 'agent', 120_000);
  return { url: agent.openUrl, origin: agent.origin, token: agent.token, stop: agent.stop };
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
