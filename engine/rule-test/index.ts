/**
 * Rule tests ("test against history") run in worker threads: reading and replaying a large history, or a rule that
 * is slow on every event, takes the worker's time, not the engine's, so acks, pushes and other requests keep flowing.
 * Each has a budget of time and events, can be cancelled by its id, and reports its progress.
 */
import { runWorkerTask } from '../../base/worker-task.js';
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
/** A cancelled worker answers with what it had when it next looks at its flag; one that does not within this is ended. */
const CANCEL_GRACE_MS = 2_000;
/** A worker's heap: reading a huge history ends that worker with an error, never the engine. */
const WORKER_HEAP_MB = 512;

interface Running {
  /** Read by the worker between pages and every few hundred events: it then answers with what it had. */
  cancel: Int32Array;
  /** Ends the worker if it does not answer by itself soon after the flag is set. */
  stop: AbortController;
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
    const entry: Running = { cancel: new Int32Array(new SharedArrayBuffer(4)), stop: new AbortController(), done: null as never };
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
    r.stop.abort();
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
    const input: WorkerInput = { file: this.file, job, cancel: entry.cancel.buffer as SharedArrayBuffer };
    const partial = (reason: 'cancelled' | 'time', message: string): RuleTestResult => ({ firings: [], eventsScanned: lastDone, since: job.since, until: job.until, errors: [], stopped: { reason, message } });
    let lastDone = 0;
    // False while runWorkerTask runs: a test cancelled while it waited for its turn is answered without a worker.
    let launched = false;
    const task = runWorkerTask<RuleTestResult, WorkerMessage>({
      module: new URL('./worker.js', import.meta.url),
      data: input,
      heapMb: WORKER_HEAP_MB,
      // The worker checks its budget and the cancel flag itself; this is for a worker stuck inside one step.
      timeoutMs: job.limits.ms + GRACE_MS,
      onTimeout: () => {
        this.log.warn(`rule test ${id} did not stop at its time budget; ended`);
        return partial('time', `stopped after ${job.limits.ms / 1000} s`);
      },
      signal: entry.stop.signal,
      abortGraceMs: CANCEL_GRACE_MS,
      onAbort: () => partial('cancelled', launched ? `cancelled after ${lastDone.toLocaleString('en-US')} events` : 'cancelled before it started'),
      onMessage: (m, settle) => {
        if (m.type === 'progress') {
          if (m.phase === 'replaying') lastDone = m.done;
          this.onProgress(id, m.phase, m.done);
        } else if (m.type === 'done') settle(() => m.result as RuleTestResult);
        else
          settle(() => {
            throw new Error(`the rule test failed: ${m.message}`);
          });
      },
      onError: (err) => {
        throw new Error(`the rule test failed: ${err.message}`);
      },
      onExit: (code) => {
        throw new Error(`the rule test ended without an answer (exit ${code})`);
      },
    });
    launched = true;
    return task;
  }
}
