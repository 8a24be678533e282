// Command: run a program on a schedule (argv, no shell; timeout; output cap) — Zenoss' "run arbitrary programs
// cyclically", REM's scheduled jobs — and turn what it says into events: its exit status as an up/down check, and
// its output as one event per run, or one per line parsed as JSON or by a regular expression with named groups.
import { z } from 'zod';
import { UserRegex, namedGroups, userRegexProblem } from '../../core/user-regex.js';
import type { NewEvent } from '../../core/event.js';
import type { MonitorDefinition } from '../../core/monitor.js';
import { parseDuration } from '../../core/duration.js';
import { checkEventDocs, checkOptionsShape, runCheck, type CheckResult } from '../../core/check-state.js';
import { runProgram } from './run.js';

const MAX_LINE_EVENTS = 1_000;
const RESERVED = ['line', 'exitCode', 'command'];

export const commandConfigSchema = z.object({
  argv: z
    .array(z.string())
    .min(1)
    .refine((a) => a[0]!.trim().length > 0, { message: 'the first item is the program, e.g. /usr/bin/df' })
    .meta({ label: 'Program and arguments', help: 'One item per argument, e.g. ["/usr/bin/df", "-P", "/"]. No shell: quotes, pipes and $VARS are passed as they are.' }),
  cwd: z.string().min(1).optional().meta({ label: 'Working folder', help: 'Run the program in this folder.' }),
  env: z.record(z.string(), z.string()).default({}).meta({ label: 'Environment', help: 'Extra environment variables.' }),
  okExitCodes: z.array(z.number().int().min(0).max(255)).min(1).default([0]).meta({ label: 'Successful exit codes', help: 'The check is up when the program exits with one of these.' }),
  output: z.enum(['run', 'json-lines', 'regex']).default('run').meta({ label: 'Events from output', help: 'run: one command.result per run with the output; json-lines: one command.line per line of JSON, its keys as fields; regex: one command.line per line the pattern matches, named groups as fields.' }),
  pattern: z
    .string()
    .optional()
    // Runs on the linear-time engine (core/user-regex.ts); the message says what is wrong with a pattern it refuses.
    .superRefine((p, ctx) => {
      const problem = p === undefined ? null : userRegexProblem(p, 'u');
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .refine((p) => p === undefined || !namedGroups(p).some((g) => RESERVED.includes(g)), { message: `named groups may not be called ${RESERVED.join(', ')}` })
    .meta({ label: 'Line pattern', help: 'For "regex": e.g. (?<mount>\\S+)\\s+(?<percent>\\d+)%. Runs on a linear-time engine (RE2), so no pattern can hang Panoptes.' }),
  maxOutputBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(1024 * 1024).meta({ label: 'Most output (bytes)', help: 'A program writing more is ended and the run counts as failed.' }),
  ...checkOptionsShape({ interval: '5m', timeout: '30s' }),
}).refine((c) => c.output !== 'regex' || c.pattern !== undefined, { message: 'give a line pattern for "regex"', path: ['pattern'] });
export type CommandConfig = z.infer<typeof commandConfigSchema>;

const definition: MonitorDefinition<CommandConfig> = {
  type: 'command',
  badge: 'CMD',
  category: 'Checks',
  title: 'Command',
  description: 'Runs a program on a schedule (no shell, with a timeout and an output cap); its exit status is an up/down check and its output becomes events — whole, or line by line as JSON or by a pattern.',
  configSchema: commandConfigSchema,
  minIntervalMs: 5_000,
  events: [
    ...checkEventDocs('run time, ms'),
    { type: 'command.result', description: 'One run (output "run").', fields: { command: 'The argv', exitCode: 'Exit status (null if ended by a signal)', signal: 'The signal that ended it, or null', stdout: 'Standard output (capped)', stderr: 'Standard error (capped)', durationMs: 'Run time', timedOut: 'Ended at the timeout', overflowed: 'Ended for writing too much' } },
    { type: 'command.line', description: 'One line of output (outputs "json-lines" and "regex"); at most 1,000 per run.', fields: { line: 'The line', exitCode: 'Exit status of the run', command: 'The argv', '<key>': 'Each key of the JSON object, or each named group of the pattern' } },
  ],
  create(ctx) {
    const cfg = ctx.config;
    const timeoutMs = parseDuration(cfg.timeout);
    const pattern = cfg.output === 'regex' && cfg.pattern !== undefined ? new UserRegex(cfg.pattern, 'u') : null;
    const commandText = cfg.argv.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' ');
    let stop = () => {};

    const probe = async (signal: AbortSignal): Promise<CheckResult> => {
      const r = await runProgram(cfg.argv, { cwd: cfg.cwd, env: cfg.env, timeoutMs, maxOutputBytes: cfg.maxOutputBytes, signal });
      if (r.startError) return { ok: false, reason: r.startError };
      const events: NewEvent[] = [];
      const parseProblems: string[] = [];
      if (cfg.output === 'run') {
        events.push({
          type: 'command.result',
          title: `${cfg.argv[0]} exited ${r.exitCode ?? r.signal}${r.stdout.trim() ? `: ${firstLine(r.stdout)}` : ''}`,
          body: r.stdout,
          fields: { command: cfg.argv, exitCode: r.exitCode, signal: r.signal, stdout: r.stdout, stderr: r.stderr, durationMs: r.ms, timedOut: r.timedOut, overflowed: r.overflowed },
        });
      } else {
        const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
        for (const [i, line] of lines.entries()) {
          if (events.length >= MAX_LINE_EVENTS) {
            parseProblems.push(`${lines.length - i} more lines not turned into events (at most ${MAX_LINE_EVENTS} per run)`);
            break;
          }
          let fields: Record<string, unknown> | null = null;
          if (cfg.output === 'json-lines') {
            try {
              const v = JSON.parse(line) as unknown;
              fields = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
            } catch {
              parseProblems.push(`line ${i + 1} is not JSON: ${line.slice(0, 80)}`);
            }
          } else if (pattern) {
            const m = pattern.exec(line);
            if (m) fields = Object.fromEntries(Object.entries(m.groups ?? {}).map(([k, v]) => [k, v ?? null]));
          }
          if (fields) events.push({ type: 'command.line', title: line.length > 300 ? line.slice(0, 299) + '…' : line, body: line, fields: { ...fields, line, exitCode: r.exitCode, command: cfg.argv } });
        }
      }
      const fields = { exitCode: r.exitCode, durationMs: r.ms };
      if (r.timedOut) return { ok: false, reason: `${cfg.argv[0]} did not finish within ${timeoutMs / 1000} s and was ended`, value: r.ms, events, fields };
      if (r.overflowed) return { ok: false, reason: `${cfg.argv[0]} wrote more than ${cfg.maxOutputBytes} bytes and was ended`, value: r.ms, events, fields };
      if (r.exitCode === null || !cfg.okExitCodes.includes(r.exitCode)) {
        const why = r.exitCode === null ? `was ended by ${r.signal}` : `exited with ${r.exitCode}`;
        return { ok: false, reason: `${cfg.argv[0]} ${why}${r.stderr.trim() ? `: ${firstLine(r.stderr)}` : ''}`, value: r.ms, events, fields };
      }
      if (parseProblems.length) ctx.log.warn(`output of ${cfg.argv[0]}: ${parseProblems.slice(0, 3).join('; ')}`);
      return { ok: true, value: r.ms, events, fields };
    };

    return {
      start() {
        stop = runCheck(ctx, { kind: 'command', target: commandText, probe, formatValue: (v) => `${Math.round(v)} ms` });
      },
      stop: () => stop(),
    };
  },
};

export default definition;

function firstLine(s: string): string {
  const l = s.trim().split('\n')[0] ?? '';
  return l.length > 200 ? l.slice(0, 199) + '…' : l;
}
