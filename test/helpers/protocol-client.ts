import WebSocket from 'ws';
import type { RunningAgent } from './agent-process.js';

/** A non-browser client of a running agent's protocol (bearer token), for tests that talk to the real process. */
export interface ProtocolClient {
  ws: WebSocket;
  call<T = any>(method: string, params?: unknown, timeoutMs?: number): Promise<T>;
  /** Resolves with the close code and reason when the server closes this connection. */
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export async function connectProtocol(agent: Pick<RunningAgent, 'port' | 'token'>): Promise<ProtocolClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${agent.port}/ws`, ['panoptes.v1'], { headers: { Authorization: `Bearer ${agent.token}` } });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('error', () => {}); // a test that breaks the protocol on purpose reads the close code instead
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  let next = 1;
  const waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  ws.on('message', (d) => {
    const m = JSON.parse(String(d));
    if (m.kind !== 'res') return;
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (!w) return;
    if (m.ok) w.resolve(m.result);
    else w.reject(Object.assign(new Error(m.error?.message ?? 'error'), { code: m.error?.code, issues: m.error?.issues }));
  });
  return {
    ws,
    closed,
    call: (method, params = {}, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const id = next++;
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`${method}: no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, {
          resolve: (v) => (clearTimeout(timer), resolve(v)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        ws.send(JSON.stringify({ kind: 'req', id, method, params }));
      }),
    close: () => ws.close(),
  };
}
