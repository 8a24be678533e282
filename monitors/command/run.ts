// Run a program the way a check needs: argv, no shell (nothing in an argument is interpreted), its own process
// group so a timeout ends its children too, and an output cap — a program that floods stdout is ended, not buffered.
import { spawn } from 'node:child_process';

export interface RunOutcome {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
  /** stdout or stderr went over the cap; the program was ended and the output cut there. */
  overflowed: boolean;
  /** The program could not be started (no such file, not executable). */
  startError: string | null;
}

export interface RunOptions {
  cwd?: string | undefined;
  env?: Record<string, string> | undefined;
  timeoutMs: number;
  maxOutputBytes: number;
  signal: AbortSignal;
}

export function runProgram(argv: string[], opts: RunOptions): Promise<RunOutcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(argv[0]!, argv.slice(1), { cwd: opts.cwd, env: { ...process.env, ...opts.env }, shell: false, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      return resolve({ exitCode: null, signal: null, stdout: '', stderr: '', ms: 0, timedOut: false, overflowed: false, startError: (err as Error).message });
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let timedOut = false;
    let overflowed = false;
    let startError: string | null = null;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const take = (into: Buffer[], size: number, chunk: Buffer): number => {
      const room = opts.maxOutputBytes - size;
      if (chunk.length > room) {
        into.push(chunk.subarray(0, Math.max(0, room)));
        overflowed = true;
        killGroup();
        return opts.maxOutputBytes;
      }
      into.push(chunk);
      return size + chunk.length;
    };
    child.stdout.on('data', (c: Buffer) => {
      if (!overflowed) outBytes = take(out, outBytes, c);
    });
    child.stderr.on('data', (c: Buffer) => {
      if (!overflowed) errBytes = take(err, errBytes, c);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, opts.timeoutMs);
    const onAbort = () => killGroup();
    opts.signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e: NodeJS.ErrnoException) => {
      startError = e.code === 'ENOENT' ? `no program ${argv[0]} (give the full path, or check PATH)` : e.code === 'EACCES' ? `${argv[0]} is not executable` : e.message;
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      // Children that kept the pipes open are ended with the group.
      killGroup();
      resolve({ exitCode: code, signal: sig, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: Math.round(performance.now() - started), timedOut, overflowed, startError });
    });
  });
}
