import { spawn } from 'node:child_process';
import type { ActionExecutor } from '../outbox-dispatcher.js';
import { permanentError } from '../outbox-dispatcher.js';
import { IDEMPOTENCY_ENV } from '../idempotency.js';

/**
 * `command {argv, timeoutMs}`: runs a program directly (no shell, so event text can never become shell code),
 * and only when the user turned commands on in settings. The program finds the action's idempotency key in
 * PANOPTES_IDEMPOTENCY_KEY.
 */
export function commandExecutor(enabled: () => boolean): ActionExecutor {
  return {
    retrySafe: false,
    // One lane per program, one at a time: a program started by two firings at once may not expect that.
    concurrency: 1,
    // The action's own timeoutMs kills the program; this only frees a slot that something wedged.
    timeoutMs: 24 * 60 * 60_000,
    destination(action) {
      const argv = (action as { command?: { argv?: unknown[] } }).command?.argv;
      return `command:${Array.isArray(argv) ? String(argv[0]) : '?'}`;
    },
    async run(action, ctx) {
      if (!enabled()) throw permanentError('commands are turned off in settings');
      const a = (action as { command: { argv: string[]; timeoutMs?: number } }).command;
      if (!Array.isArray(a.argv) || !a.argv.length || !a.argv.every((x) => typeof x === 'string')) throw permanentError('command argv must be a non-empty array of strings');
      const timeoutMs = a.timeoutMs ?? 30_000;
      await new Promise<void>((resolve, reject) => {
        const child = spawn(a.argv[0]!, a.argv.slice(1), { shell: false, env: { ...process.env, [IDEMPOTENCY_ENV]: ctx.idempotencyKey }, stdio: ['ignore', 'ignore', 'pipe'], signal: ctx.signal, timeout: timeoutMs, killSignal: 'SIGKILL' });
        let stderr = '';
        child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-2_000)));
        child.on('error', (err) => reject(permanentError(`command could not start: ${err.message}`)));
        child.on('exit', (code, signal) => {
          if (code === 0) resolve();
          else reject(permanentError(signal ? `command killed (${signal}${signal === 'SIGKILL' ? `, over ${timeoutMs} ms` : ''})` : `command exited with ${code}${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`));
        });
      });
    },
  };
}
