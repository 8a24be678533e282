/**
 * The worker thread a rule test runs in (see engine/rule-test/index.ts): its own read-only connection to the store,
 * its own copy of the rules engine, so however long the history or the rule, the engine's thread keeps answering.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../../core/log.js';
import { openEventsReadOnly } from '../../core/store/index.js';
import type { RuleActionSpec } from '../../core/action.js';
import { loadMonitorTypes, ruleActionKinds } from '../monitor-registry.js';
import { runRuleTest, type RuleTestJob } from './run.js';

export interface WorkerInput {
  file: string;
  job: RuleTestJob;
  /** One Int32: set to 1 by the engine's thread to cancel (read between pages and every few hundred events). */
  cancel: SharedArrayBuffer;
}

export type WorkerMessage =
  | { type: 'progress'; phase: 'reading' | 'replaying'; done: number }
  | { type: 'done'; result: unknown }
  | { type: 'error'; message: string };

const BUILTIN = new Set(['notify', 'flag', 'tag', 'webhook', 'command', 'stop']);

/** A contributed action the shipped monitor types do not declare (a type loaded from elsewhere): its texts rendered as templates. */
const genericAction: RuleActionSpec = {
  params: (t) => t as never,
  render: (params, template) => {
    const walk = (v: unknown, at: string): unknown =>
      typeof v === 'string' ? template(v, at) : Array.isArray(v) ? v.map((x, i) => walk(x, `${at}[${i}]`)) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, at ? `${at}.${k}` : k)])) : v;
    return walk(params, '') as Record<string, unknown>;
  },
};

const input = workerData as WorkerInput;
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const cancelled = new Int32Array(input.cancel);

try {
  const kinds = new Map(ruleActionKinds(await loadMonitorTypes(createLogger('rule-test', 'error', () => {}))));
  for (const action of input.job.rule.then) for (const kind of Object.keys(action)) if (!BUILTIN.has(kind) && !kinds.has(kind)) kinds.set(kind, genericAction);
  const store = openEventsReadOnly(input.file);
  try {
    const result = runRuleTest(store.events, input.job, kinds, {
      cancelled: () => Atomics.load(cancelled, 0) === 1,
      progress: (phase, done) => post({ type: 'progress', phase, done }),
    });
    post({ type: 'done', result });
  } finally {
    store.close();
  }
} catch (err) {
  post({ type: 'error', message: (err as Error).message });
}
