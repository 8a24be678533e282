/**
 * Runs the engine's desktop entry (engine/utility-main.js) in a worker thread with `process.parentPort` shaped like
 * Electron's utilityProcess: messages arrive as `{ data, ports }` and ports emit `{ data }`. The entry is the real
 * file the desktop app forks; only the process container differs. Messages from the test come as `{ data, ports }`.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';

interface Envelope {
  data: unknown;
  ports?: MessagePort[];
}

function electronLikePort(port: MessagePort) {
  return {
    postMessage: (m: unknown) => port.postMessage(m),
    on(event: 'message' | 'close', listener: (e?: unknown) => void) {
      if (event === 'message') port.on('message', (data: unknown) => listener({ data }));
      else port.on('close', () => listener());
    },
    start: () => port.start(),
    close: () => port.close(),
  };
}

const wt = parentPort!;
(process as unknown as { parentPort: unknown }).parentPort = {
  on(event: 'message', listener: (e: { data: unknown; ports: unknown[] }) => void) {
    if (event === 'message') wt.on('message', (m: Envelope) => listener({ data: m.data, ports: (m.ports ?? []).map(electronLikePort) }));
  },
  postMessage: (m: unknown) => wt.postMessage(m),
};

await import((workerData as { entry: string }).entry);
