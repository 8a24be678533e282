/**
 * One task in a worker thread of its own, for work on untrusted input that may take long or need much memory (a
 * rule test over a large history, an XPath over a large page): the engine's thread never waits for it, and whatever
 * the task does it ends, with an answer or an error that says why.
 *
 * - It has a heap of its own (`heapMb`): running out of it ends that worker, never the engine.
 * - It has a time budget (`timeoutMs`): past it the worker is ended and `onTimeout` answers (the work may be stuck
 *   inside one step no flag can interrupt).
 * - It can be stopped by `signal`: the worker may still answer by itself within `abortGraceMs` (with what it had, when
 *   it watches a shared flag of its own); past that, or at once without a grace, it is ended and `onAbort` answers.
 * - The first answer settles the task; the worker is terminated then, whatever settled it.
 *
 * The hooks return the task's result or throw to reject it.
 */
import { Worker } from 'node:worker_threads';

export interface WorkerTask<T, M> {
  /** The worker's module (`new URL('./x-worker.js', import.meta.url)`). */
  module: URL;
  /** Copied to the worker as its `workerData`. */
  data: unknown;
  /** The worker's heap limit (V8 old generation), in MB. */
  heapMb: number;
  /** Past this the worker is ended and `onTimeout` answers. */
  timeoutMs: number;
  onTimeout(): T;
  /** Ends the task: before it started, `onAbort` answers at once and no worker is started. */
  signal?: AbortSignal | undefined;
  /** How long a stopped worker may take to answer by itself before it is ended (0: ended at once). */
  abortGraceMs?: number;
  onAbort?(reason: unknown): T;
  /**
   * Each message the worker posts: `settle(() => result)` ends the task with it (or with what the function throws);
   * messages that do not settle (progress) just return.
   */
  onMessage(message: M, settle: (answer: () => T) => void): void;
  /** The worker threw or ran out of memory (`code` is 'ERR_WORKER_OUT_OF_MEMORY' then). Default: reject with it. */
  onError?(err: Error & { code?: string }): T;
  /** The worker exited without an answer. Default: reject saying so with its exit code. */
  onExit?(code: number): T;
}

/** The rejection of a task the worker left without an answer. */
const exitedWithoutAnswer = (code: number): never => {
  throw new Error(`the worker thread ended (exit code ${code}) without an answer`);
};

export function runWorkerTask<T, M>(task: WorkerTask<T, M>): Promise<T> {
  const onAbort =
    task.onAbort ??
    ((reason: unknown) => {
      throw reason ?? new Error('stopped');
    });
  if (task.signal?.aborted) {
    try {
      return Promise.resolve(onAbort(task.signal.reason));
    } catch (err) {
      return Promise.reject(err);
    }
  }
  const worker = new Worker(task.module, { workerData: task.data, resourceLimits: { maxOldGenerationSizeMb: task.heapMb } });
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const settle = (answer: () => T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      task.signal?.removeEventListener('abort', aborted);
      void worker.terminate();
      try {
        resolve(answer());
      } catch (err) {
        reject(err);
      }
    };
    const timer = setTimeout(() => settle(() => task.onTimeout()), task.timeoutMs);
    // The worker keeps the process alive while it runs; the timers alone need not.
    timer.unref();
    const aborted = () => {
      const end = () => settle(() => onAbort(task.signal!.reason));
      if (!task.abortGraceMs) return end();
      graceTimer = setTimeout(end, task.abortGraceMs);
      graceTimer.unref();
    };
    task.signal?.addEventListener('abort', aborted, { once: true });
    worker.on('message', (m: M) => {
      if (!settled) task.onMessage(m, settle);
    });
    worker.on('error', (err: Error & { code?: string }) =>
      settle(() => {
        if (task.onError) return task.onError(err);
        throw err;
      }),
    );
    worker.on('exit', (code) => settle(() => (task.onExit ?? exitedWithoutAnswer)(code)));
  });
}
