// Runs the filter chain on one page in a worker thread (see filter-runner.ts): a large page or a costly XPath takes
// this thread's time, never the engine's, and can be stopped by ending the thread. The form's validation also
// compiles jq programs here (jq lives only in this thread, with its memory cap), without a page.
import { parentPort, workerData } from 'node:worker_threads';
import { applyFilters, FilterError, type FilterStep } from './filters.js';

export interface FilterJob {
  body: Uint8Array;
  contentType: string;
  charset?: string | undefined;
  steps: FilterStep[];
}

/** Compile these jq programs only (nothing is run on any input): what jq says about each, or null. */
export interface JqCompileJob {
  compileJq: string[];
}

export type FilterReply =
  | { ok: true; lines: string[]; fields: Record<string, string> }
  | { ok: true; jqProblems: (string | null)[] }
  | { ok: false; userError: boolean; message: string };

async function answer(job: FilterJob | JqCompileJob): Promise<FilterReply> {
  if ('compileJq' in job) {
    const jq = await import('./jq.js');
    await jq.loadJq();
    return { ok: true, jqProblems: job.compileJq.map((p) => jq.jqCompileProblem(p)) };
  }
  // jq (WebAssembly) is loaded in this thread only, and only for a chain that has a jq step.
  if (job.steps.some((s) => s.kind === 'jq')) await (await import('./jq.js')).loadJq();
  const body = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength);
  const { lines, fields } = applyFilters({ body, contentType: job.contentType, charset: job.charset }, job.steps);
  return { ok: true, lines, fields };
}

let reply: FilterReply;
try {
  reply = await answer(workerData as FilterJob | JqCompileJob);
} catch (err) {
  reply = { ok: false, userError: err instanceof FilterError, message: (err as Error).message ?? String(err) };
}
parentPort!.postMessage(reply);
