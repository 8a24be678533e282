// Where the filter chain runs. A small page with CSS, JSON or pattern steps is filtered right away: that takes
// milliseconds. A large page, or any XPath (an expression such as //td[count(preceding::td) > 0] is quadratic in the
// page), is filtered in a worker thread with a time budget: the engine's thread (rules, other monitors, the UI's
// requests) never waits for it, and a filter that runs out of time or memory fails its own check with a message.
import { runWorkerTask } from '../../base/worker-task.js';
import type { Filtered, Page } from './filters.js';
import { FilterError, type FilterStep } from './filter-parse.js';
import type { FilterJob, FilterReply, JqCompileJob } from './filter-worker.js';

/** Above this, even cheerio's parse alone takes long enough (hundreds of ms on a loaded machine) to matter. */
export const INLINE_MAX_BYTES = 256 * 1024;
/** A worker's heap: room for a 5 MiB page parsed several times over, not for the whole machine. */
const WORKER_HEAP_MB = 512;

export interface FilterRunOptions {
  /** How long the filters may take; past it the check fails (the worker is ended). */
  budgetMs: number;
  /** The check's own signal: stopping the monitor ends the worker. */
  signal?: AbortSignal;
}

export function runsInWorker(page: Page, steps: readonly FilterStep[]): boolean {
  const size = typeof page.body === 'string' ? page.body.length : page.body.byteLength;
  // jq runs only there: the timeout can end a program that loops, and jq's memory is capped in that thread alone.
  return size > INLINE_MAX_BYTES || steps.some((s) => s.kind === 'xpath' || s.kind === 'jq');
}

export async function filterPage(page: Page, steps: readonly FilterStep[], options: FilterRunOptions): Promise<Filtered> {
  // filters.ts (cheerio, jsonpath-plus) is loaded with the first page filtered here, not when the engine starts.
  if (!runsInWorker(page, steps)) return (await import('./filters.js')).applyFilters(page, steps);
  const body = typeof page.body === 'string' ? Buffer.from(page.body) : page.body;
  const job: FilterJob = { body, contentType: page.contentType, charset: page.charset, steps: [...steps] };
  const seconds = Math.round(options.budgetMs / 1000);
  return runWorkerTask<Filtered, FilterReply>({
    module: new URL('./filter-worker.js', import.meta.url),
    data: job,
    heapMb: WORKER_HEAP_MB,
    timeoutMs: options.budgetMs,
    onTimeout: () => {
      throw new FilterError(`filtering the page took longer than ${seconds} s (the check's timeout) and was stopped; pick a smaller part first (a css: step before xpath:) or a simpler expression`);
    },
    // Stopping the monitor ends the worker at once (the default: rejects with the signal's reason).
    signal: options.signal,
    onMessage: (reply, settle) =>
      settle(() => {
        if (reply.ok && 'lines' in reply) return { lines: reply.lines, fields: reply.fields };
        if (reply.ok) throw new Error('the filter thread answered something else');
        throw reply.userError ? new FilterError(reply.message) : new Error(reply.message);
      }),
    onError: (err) => {
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') throw new FilterError(`filtering the page needed more than ${WORKER_HEAP_MB} MB and was stopped; pick a smaller part of the page first (a css: step)`);
      throw err;
    },
    onExit: (code) => {
      throw new Error(`the filter thread ended (code ${code}) without an answer`);
    },
  });
}

/**
 * What jq says about each program when compiling it (null: jq compiles it), for the form's validation: in the
 * filter worker, where jq lives, with a time budget. Nothing of the programs runs. Null for all when the worker ran
 * out of time (a machine too busy to load jq): the check then says what is wrong, as before.
 */
export async function jqCompileProblems(programs: readonly string[], options: FilterRunOptions): Promise<(string | null)[]> {
  // A form validates as the user types: programs already compiled are answered from here, without a worker.
  const unknown = [...new Set(programs.filter((p) => !compiled.has(p)))];
  if (unknown.length) {
    const answers = await compileInWorker(unknown, options);
    if (answers) unknown.forEach((p, i) => remember(p, answers[i] ?? null));
  }
  return programs.map((p) => compiled.get(p) ?? null);
}

const compiled = new Map<string, string | null>();
const COMPILED_KEPT = 200;
function remember(program: string, problem: string | null): void {
  compiled.delete(program);
  compiled.set(program, problem);
  if (compiled.size > COMPILED_KEPT) compiled.delete(compiled.keys().next().value!);
}

function compileInWorker(programs: string[], options: FilterRunOptions): Promise<(string | null)[] | null> {
  const none = () => null;
  const job: JqCompileJob = { compileJq: programs };
  return runWorkerTask<(string | null)[] | null, FilterReply>({
    module: new URL('./filter-worker.js', import.meta.url),
    data: job,
    heapMb: WORKER_HEAP_MB,
    timeoutMs: options.budgetMs,
    onTimeout: none,
    signal: options.signal,
    onAbort: none,
    onMessage: (reply, settle) =>
      settle(() => {
        if (reply.ok && 'jqProblems' in reply) return reply.jqProblems;
        throw new Error(reply.ok ? 'the filter thread answered something else' : reply.message);
      }),
  });
}
