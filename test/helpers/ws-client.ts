import WebSocket from 'ws';

/** A protocol client from Node (as a page would connect), to set the scene or act as a page in tests. */
export async function connectTo(agent: { origin: string; token: string }) {
  const ws = new WebSocket(agent.origin.replace('http', 'ws') + '/ws', ['panoptes.v1', 'token.' + agent.token]);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let next = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const pushes: { topic: string; data: unknown }[] = [];
  ws.on('message', (raw) => {
    const msg = JSON.parse(String(raw)) as { kind: string; id: number; ok: boolean; result?: unknown; error?: { message: string }; topic?: string; data?: unknown };
    if (msg.kind === 'push') pushes.push({ topic: msg.topic!, data: msg.data });
    if (msg.kind !== 'res') return;
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.ok) p?.resolve(msg.result);
    else p?.reject(new Error(msg.error?.message));
  });
  return {
    pushes,
    call: <T = unknown>(method: string, params: unknown) =>
      new Promise<T>((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        ws.send(JSON.stringify({ kind: 'req', id, method, params }));
      }),
    close: () => ws.close(),
  };
}
