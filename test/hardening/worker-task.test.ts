// base/worker-task.ts runs one task on untrusted input in a worker thread (rule tests over history, XPath over large
// pages): each way such a task can end — an answer, a budget overrun, a stop with or without the worker's own answer,
// running out of memory, throwing, exiting — settles it once with a clear result, and the worker is gone after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runWorkerTask, type WorkerTask } from '../../base/worker-task.js';

type Msg = { done?: string; progress?: number };
const module = new URL('../helpers/task-worker.js', import.meta.url);

function task(mode: string, over: Partial<WorkerTask<string, Msg>> = {}, extra: Record<string, unknown> = {}): WorkerTask<string, Msg> {
  return {
    module,
    data: { mode, ...extra },
    heapMb: 64,
    timeoutMs: 30_000,
    onTimeout: () => 'timed out',
    onMessage: (m, settle) => {
      if (m.done) settle(() => m.done!);
    },
    ...over,
  };
}

test('an answer settles the task; progress messages do not', async () => {
  assert.equal(await runWorkerTask(task('answer')), 'the answer');
  const seen: number[] = [];
  const r = await runWorkerTask(task('progress', { onMessage: (m, settle) => (m.progress ? void seen.push(m.progress) : settle(() => m.done!)) }));
  assert.equal(r, 'after progress');
  assert.deepEqual(seen, [1, 2, 3]);
});

test('a worker stuck past its budget is ended and the budget answers', async () => {
  assert.equal(await runWorkerTask(task('spin', { timeoutMs: 300 })), 'timed out');
  await assert.rejects(
    runWorkerTask(
      task('spin', {
        timeoutMs: 300,
        onTimeout: () => {
          throw new Error('took too long');
        },
      }),
    ),
    /took too long/,
  );
});

test('a stop: at once by default, or after a grace in which the worker may answer by itself', async () => {
  const before = new AbortController();
  before.abort(new Error('stopped before'));
  await assert.rejects(runWorkerTask(task('answer', { signal: before.signal })), /stopped before/);

  const now = new AbortController();
  const stuck = runWorkerTask(task('spin', { signal: now.signal }));
  setTimeout(() => now.abort(new Error('monitor stopped')), 100);
  await assert.rejects(stuck, /monitor stopped/);

  // The worker watches a shared flag and answers with what it had: that answer wins over onAbort.
  const flag = new SharedArrayBuffer(4);
  const polite = new AbortController();
  const answering = runWorkerTask(task('flag', { signal: polite.signal, abortGraceMs: 20_000, onAbort: () => 'ended by the grace' }, { flag }));
  setTimeout(() => {
    Atomics.store(new Int32Array(flag), 0, 1);
    polite.abort();
  }, 100);
  assert.equal(await answering, 'stopped by the flag, with what it had');

  // One that does not answer within the grace is ended and onAbort answers.
  const deaf = new AbortController();
  const ended = runWorkerTask(task('spin', { signal: deaf.signal, abortGraceMs: 200, onAbort: () => 'ended by the grace' }));
  setTimeout(() => deaf.abort(), 100);
  assert.equal(await ended, 'ended by the grace');
});

test('running out of its heap, throwing or exiting fails the task alone, saying so', async () => {
  await assert.rejects(
    runWorkerTask(
      task('oom', {
        heapMb: 16,
        onError: (err) => {
          throw new Error(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'needed more than 16 MB' : `other: ${err.message}`);
        },
      }),
    ),
    /needed more than 16 MB/,
  );
  await assert.rejects(runWorkerTask(task('throw')), /broken inside/);
  await assert.rejects(runWorkerTask(task('exit')), /ended \(exit code 3\) without an answer/);
});
