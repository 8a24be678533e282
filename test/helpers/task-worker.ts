// A worker for test/hardening/worker-task.test.ts: behaves as its workerData says (answer, spin for ever, watch a
// shared flag, eat memory, throw, exit), so each way a task can end is exercised on a real worker thread.
import { parentPort, workerData } from 'node:worker_threads';

const job = workerData as { mode: 'answer' | 'progress' | 'spin' | 'flag' | 'oom' | 'throw' | 'exit'; flag?: SharedArrayBuffer };
const post = (m: unknown) => parentPort!.postMessage(m);

switch (job.mode) {
  case 'answer':
    post({ done: 'the answer' });
    break;
  case 'progress':
    for (let i = 1; i <= 3; i++) post({ progress: i });
    post({ done: 'after progress' });
    break;
  case 'spin':
    for (;;);
  case 'flag': {
    const flag = new Int32Array(job.flag!);
    while (Atomics.load(flag, 0) === 0);
    post({ done: 'stopped by the flag, with what it had' });
    break;
  }
  case 'oom': {
    const hog: unknown[] = [];
    for (;;) hog.push(new Array(100_000).fill({ x: Math.random() }));
  }
  case 'throw':
    throw new Error('broken inside');
  case 'exit':
    process.exit(3);
}
