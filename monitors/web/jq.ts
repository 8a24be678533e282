// jq programs on JSON answers (the `jq:` filter step), with jq itself compiled to WebAssembly (jq-web): the user's
// program runs in jq's own interpreter, with no jq binary needed on the machine and nothing of the machine reachable
// from it (its files and environment are an empty in-memory sandbox). It runs only in the filter worker
// (filter-runner.ts), where the check's timeout ends a program that would run forever, the memory jq may grow to is
// capped below, and its output is capped: a pathological program fails its own check, never the engine.
import { createRequire } from 'node:module';

/** jq's memory: far more than a 5 MiB answer needs, far less than the machine has (jq would grow to 2 GB). */
export const JQ_MAX_MEMORY_BYTES = 256 * 1024 * 1024;
/** The most output a program may produce (as the compact JSON jq prints); more is refused. */
export const JQ_MAX_OUTPUT_CHARS = 5 * 1024 * 1024;

interface JqModule {
  raw(json: string, program: string, flags?: string[]): string | undefined;
}

let loading: Promise<JqModule> | null = null;

/** Load jq once per worker. Call before `runJq`. */
export function loadJq(): Promise<JqModule> {
  if (!loading) {
    capWasmMemory(JQ_MAX_MEMORY_BYTES);
    // jq-web prints jq's stderr (`debug`, `stderr`) through console: nothing a user's program says reaches our logs.
    console.log = () => {};
    console.error = () => {};
    console.warn = () => {};
    loading = Promise.resolve(createRequire(import.meta.url)('jq-web') as Promise<JqModule>).then((m) => (loaded = m));
  }
  return loading;
}

let loaded: JqModule | null = null;

/** One jq error in the user's words: which kind, and jq's own message. */
export class JqError extends Error {
  constructor(
    message: string,
    /** A compile error (the program is not valid jq), as opposed to one on this input. */
    readonly compile: boolean,
  ) {
    super(message);
  }
}

/** How a program jq refuses to compile is said, at the check and at the form's field alike. */
export function jqNotValid(program: string, problem: string): string {
  return `the jq program "${program}" is not valid: ${problem}`;
}

/**
 * jq's own compile error for `program`, or null when jq compiles it. The program is compiled inside a branch that
 * is never taken, so none of it runs (validating `repeat(1)` costs nothing); only when that finds a problem is the
 * program compiled alone, for jq's message about the user's text as written (jq stops at the compile error, so it
 * still runs nothing — except a program that compiles alone but not in the branch, a top-level `module` directive,
 * which then runs once on `null` under the caller's budget).
 */
export function jqCompileProblem(program: string): string | null {
  if (!loaded) throw new Error('jq is not loaded (loadJq first)');
  try {
    // The newline ends a trailing comment; `(def f: …; f)` is valid jq, so top-level definitions compile here too.
    loaded.raw('null', `if false then (${program}\n) else empty end`, ['-c']);
    return null;
  } catch {
    try {
      runJq(program, null);
      return null;
    } catch (err) {
      return err instanceof JqError && err.compile ? err.message : null;
    }
  }
}

/** Run `program` on one JSON value (already parsed); each output of the program is one value. */
export function runJq(program: string, input: unknown): unknown[] {
  if (!loaded) throw new Error('jq is not loaded (loadJq first)');
  let out: string;
  try {
    // Nothing printed (`empty`) comes back as undefined.
    out = loaded.raw(JSON.stringify(input), program, ['-c']) ?? '';
  } catch (err) {
    const text = String((err as Error).message ?? err);
    const code = /Non-zero exit code: (\d+)/.exec(text)?.[1];
    if (/Aborted|out of memory/i.test(text)) throw new JqError(`it needed more than ${JQ_MAX_MEMORY_BYTES / 1024 / 1024} MB and was stopped`, false);
    const lines = text
      .split('\n')
      .filter((l) => l.trim() && !/^Non-zero exit code|compile errors?$/.test(l.trim()))
      .map((l) => l.replace(/^jq: error(?: \(at [^)]*\))?: /, '').trim());
    throw new JqError(lines.slice(0, 3).join(' ').slice(0, 500) || text.slice(0, 500), code === '3');
  }
  if (out.length > JQ_MAX_OUTPUT_CHARS) throw new JqError(`its output is larger than ${JQ_MAX_OUTPUT_CHARS / 1024 / 1024} MiB`, false);
  return out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as unknown);
}

/** WebAssembly memory in this thread may not grow past `max` bytes: jq's allocation fails instead, and jq says so. */
function capWasmMemory(max: number): void {
  const proto = WebAssembly.Memory.prototype as { grow(pages: number): number };
  const grow = proto.grow;
  proto.grow = function (this: WebAssembly.Memory, pages: number) {
    if (this.buffer.byteLength + pages * 65_536 > max) throw new RangeError('memory cap reached');
    return grow.call(this, pages);
  };
}
