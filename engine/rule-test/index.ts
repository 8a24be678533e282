/**
 * Rule tests ("test against history") run in worker threads: reading and replaying a large history, or a rule that
 * is slow on every event, takes the worker's time, not the engine's, so acks, pushes and other requests keep flowing.
 * Each has a budget of time and events, can be cancelled by its id, and reports its progress.
 */
import { Worker } from 'node:worker_threads';
import type { RuleTestResult } from '../../core/protocol.js';
import type { Logger } from '../../core/log.js';
import type { EventStore } from '../../core/store/index.js';
import type { ActionKinds } from '../../rules/index.js';
import { runRuleTest, type RuleTestJob } from './run.js';
import type { WorkerInput, WorkerMessage } from './worker.js';

export { RULE_TEST_LIMITS, type RuleTestJob } from './run.js';

/** At most this many tests at once (each is a thread and a copy of what it read); another waits its turn. */
const MAX_RUNNING = 2;
/** A worker that has not answered this long after its time budget is ended (it is stuck in one page or one event). */
const GRACE_MS = 10_000;
/** A worker's heap: reading a huge history ends that worker with an error, never the engine. */
const WORKER_HEAP_MB = 512;

interface Running {
  cancel: Int32Array;
  worker: Worker | null;
  done: Promise<RuleTestResult>;
}

export class RuleTests {
  private readonly running = new Map<string, Running>();
  private anonymous = 0;
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    /** The store's file, opened read-only by each worker; ':memory:' runs tests on this thread (tests of the engine). */
    private readonly file: string,
    private readonly events: Pick<EventStore, 'list'>,
    private readonly log: Logger,
    private readonly onProgress: (testId: string, phase: 'reading' | 'replaying', done: number) => void = () => {},
  ) {}

  /** Run a test; a test already running under the same id is cancelled first. */
  async run(testId: string | undefined, job: RuleTestJob, kinds: ActionKinds): Promise<RuleTestResult> {
    const id = testId ?? `anonymous-${++this.anonymous}`;
    this.cancel(id);
    const entry: Running = { cancel: new Int32Array(new SharedArrayBuffer(4)), worker: null, done: null as never };
    this.running.set(id, entry);
    entry.done = this.turn(() => (this.file === ':memory:' ? this.inThread(id, entry, job, kinds) : this.inWorker(id, entry, job)));
    try {
      return await entry.done;
    } finally {
      if (this.running.get(id) === entry) this.running.delete(id);
    }
  }

  /** Cancel a running (or waiting) test: it answers with what it had, marked cancelled. False when none runs by that id. */
  cancel(testId: string): boolean {
    const r = this.running.get(testId);
    if (!r) return false;
    this.running.delete(testId);
    Atomics.store(r.cancel, 0, 1);
    return true;
  }

  close(): void {
    for (const id of [...this.running.keys()]) this.cancel(id);
  }

  private async turn<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= MAX_RUNNING) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }

  private async inThread(id: string, entry: Running, job: RuleTestJob, kinds: ActionKinds): Promise<RuleTestResult> {
    return runRuleTest(this.events, job, kinds, { cancelled: () => Atomics.load(entry.cancel, 0) === 1, progress: (phase, done) => this.onProgress(id, phase, done) });
  }

  private inWorker(id: string, entry: Running, job: RuleTestJob): Promise<RuleTestResult> {
    const cancelled = (): RuleTestResult => ({ firings: [], eventsScanned: 0, since: job.since, until: job.until, errors: [], stopped: { reason: 'cancelled', message: 'cancelled before it started' } });
    if (Atomics.load(entry.cancel, 0) === 1) return Promise.resolve(cancelled());
    const input: WorkerInput = { file: this.file, job, cancel: entry.cancel.buffer as SharedArrayBuffer };
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: input, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    entry.worker = worker;
    let lastDone = 0;
    return new Promise<RuleTestResult>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(hardStop);
        clearInterval(cancelWatch);
        fn();
        void worker.terminate();
      };
      // The worker checks its budget and the cancel flag itself; this is for a worker stuck inside one step.
      const hardStop = setTimeout(() => {
        this.log.warn(`rule test ${id} did not stop at its time budget; ended`);
        finish(() => resolve({ firings: [], eventsScanned: lastDone, since: job.since, until: job.until, errors: [], stopped: { reason: 'time', message: `stopped after ${job.limits.ms / 1000} s` } }));
      }, job.limits.ms + GRACE_MS);
      hardStop.unref();
      // A cancelled worker that does not answer soon (still loading, or in one long step) is ended.
      let cancelSeenAt = 0;
      const cancelWatch = setInterval(() => {
        if (Atomics.load(entry.cancel, 0) !== 1) return;
        cancelSeenAt ||= Date.now();
        if (Date.now() - cancelSeenAt > 2_000) finish(() => resolve({ ...cancelled(), eventsScanned: lastDone, stopped: { reason: 'cancelled', message: `cancelled after ${lastDone.toLocaleString('en-US')} events` } }));
      }, 250);
      cancelWatch.unref();
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'progress') {
          if (m.phase === 'replaying') lastDone = m.done;
          this.onProgress(id, m.phase, m.done);
        } else if (m.type === 'done') finish(() => resolve(m.result as RuleTestResult));
        else finish(() => reject(new Error(`the rule test failed: ${m.message}`)));
      });
      worker.on('error', (err) => finish(() => reject(new Error(`the rule test failed: ${err.message}`))));
      worker.on('exit', (code) => finish(() => reject(new Error(`the rule test ended without an answer (exit ${code})`))));
    });
  }
}
