// Runs the filter chain on one page in a worker thread (see filter-runner.ts): a large page or a costly XPath takes
// this thread's time, never the engine's, and can be stopped by ending the thread.
import { parentPort, workerData } from 'node:worker_threads';
import { applyFilters, FilterError, type FilterStep } from './filters.js';

export interface FilterJob {
  body: Uint8Array;
  contentType: string;
  charset?: string | undefined;
  steps: FilterStep[];
}

export type FilterReply = { ok: true; lines: string[]; fields: Record<string, string> } | { ok: false; userError: boolean; message: string };

const job = workerData as FilterJob;
let reply: FilterReply;
try {
  // jq (WebAssembly) is loaded in this thread only, and only for a chain that has a jq step.
  if (job.steps.some((s) => s.kind === 'jq')) await (await import('./jq.js')).loadJq();
  const body = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength);
  const { lines, fields } = applyFilters({ body, contentType: job.contentType, charset: job.charset }, job.steps);
  reply = { ok: true, lines, fields };
} catch (err) {
  reply = { ok: false, userError: err instanceof FilterError, message: (err as Error).message ?? String(err) };
}
parentPort!.postMessage(reply);
