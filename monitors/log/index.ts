// Log tail: follow a file like `tail -F` and emit `log.line` for each new line (or only the lines a regular
// expression matches, its named groups becoming fields).
import { z } from 'zod';
import path from 'node:path';
import { UserRegex, namedGroups, userRegexProblem } from '../../core/user-regex.js';
import type { MonitorDefinition } from '../../core/monitor.js';
import { isDuration, parseDuration } from '../../core/duration.js';
import { FileTailer, type TailPosition } from './tailer.js';
import { backoffDelay } from '../../base/backoff.js';

const MIN_POLL_MS = 250;
/** Fields every log.line has; a named group may not take their place. */
const RESERVED = ['file', 'line', 'truncated'];
const DRY_RUN_LINES = 20;
const DRY_RUN_BYTES = 256 * 1024;
/** Save the read position this often during a burst, so a crash re-emits at most this many lines. */
const SAVE_EVERY_LINES = 1000;

export const logConfigSchema = z
  .object({
    path: z
      .string()
      .min(1)
      .refine((p) => path.isAbsolute(p), { message: 'give the full path, e.g. /var/log/syslog' })
      .meta({ label: 'Log file', help: 'Full path of the file to follow. It may be rotated or truncated, or not exist yet.' }),
    fromBeginning: z.boolean().default(false).meta({ label: 'Read from the beginning', help: 'On the first start, read the whole file instead of only what is written from now on.' }),
    pattern: z
      .string()
      .optional()
      // Runs on the linear-time engine (core/user-regex.ts); the message says what is wrong with a pattern it refuses.
      .superRefine((p, ctx) => {
        const problem = p === undefined ? null : userRegexProblem(p);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .refine((p) => p === undefined || !namedGroups(p).some((g) => RESERVED.includes(g)), { message: `named groups may not be called ${RESERVED.join(', ')}` })
      .meta({ label: 'Only lines matching', help: 'A regular expression; only matching lines become events. Named groups, e.g. (?<level>ERROR|WARN), become fields.' }),
    ignoreCase: z.boolean().default(false).meta({ label: 'Ignore case', help: 'Match the pattern regardless of upper/lower case.' }),
    maxLineLength: z.number().int().min(256).max(1024 * 1024).default(16 * 1024).meta({ label: 'Longest line (bytes)', help: 'Longer lines are cut to this length (the event says so) so a runaway writer cannot exhaust memory.' }),
    pollInterval: z
      .string()
      .default('1s')
      .refine(isDuration, { message: 'write a duration like "1s" or "500ms"' })
      // Said in the help, so refused here rather than silently raised at run time.
      .refine((v) => !isDuration(v) || parseDuration(v) >= MIN_POLL_MS, { message: `at least ${MIN_POLL_MS}ms: checking more often only costs CPU` })
      .meta({ label: 'Check every', help: `How often to look for new lines (at least ${MIN_POLL_MS}ms).` }),
  });
export type LogConfig = z.infer<typeof logConfigSchema>;

const definition: MonitorDefinition<LogConfig> = {
  type: 'log',
  badge: 'LOG',
  category: 'This machine',
  title: 'Log file',
  description: 'Follows a log file like `tail -F` (survives rotation and truncation) and turns new lines, or the ones matching a pattern, into events.',
  configSchema: logConfigSchema,
  minIntervalMs: MIN_POLL_MS,
  events: [
    {
      type: 'log.line',
      description: 'A new line in the file (only lines matching the pattern, if one is set).',
      fields: {
        file: 'Path of the file',
        line: 'The line, without its newline (cut at the maximum length)',
        truncated: 'true when the line was longer than the maximum and was cut',
        '<group>': 'Each named group of the pattern, e.g. fields.level for (?<level>…); unmatched groups are null',
      },
    },
  ],
  // The file followed.
  sources: (c) => [c.path],
  create(ctx) {
    const cfg = ctx.config;
    const re = cfg.pattern !== undefined ? new UserRegex(cfg.pattern, cfg.ignoreCase ? 'i' : '') : null;
    const pollMs = Math.max(MIN_POLL_MS, parseDuration(cfg.pollInterval));
    const saved = ctx.dryRun ? undefined : ctx.state.get<TailPosition>('position');
    const tailer = new FileTailer(cfg.path, { fromBeginning: cfg.fromBeginning, maxLineLength: cfg.maxLineLength }, saved);
    let sinceSave = 0;
    let cancelTimer: (() => void) | null = null;
    let failures = 0;
    let reported: string | null = null;

    const toEvent = (line: string, truncated: boolean) => {
      let groups: Record<string, string | null> = {};
      if (re) {
        const m = re.exec(line);
        if (!m) return null;
        groups = Object.fromEntries(Object.entries(m.groups ?? {}).map(([k, v]) => [k, v ?? null]));
      }
      return {
        type: 'log.line',
        title: line.length > 300 ? line.slice(0, 299) + '…' : line,
        body: line,
        fields: { ...groups, file: cfg.path, line, truncated },
        tags: ['log'],
      };
    };

    const savePosition = () => {
      const pos = tailer.position();
      if (pos) ctx.state.set('position', pos);
      sinceSave = 0;
    };

    const onLine = async (line: string, truncated: boolean) => {
      const event = toEvent(line, truncated);
      if (event) await ctx.emit(event);
      if (++sinceSave >= SAVE_EVERY_LINES) savePosition();
    };

    /** Report health only when it changes, not once per poll. */
    const report = (status: 'ok' | 'waiting' | 'failing', err?: unknown, retryInMs?: number) => {
      const key = status === 'failing' ? `failing:${String(err)}` : status;
      if (key === reported) return;
      reported = key;
      if (status === 'ok') ctx.health.ok();
      else if (status === 'waiting') ctx.health.degraded(`waiting for ${cfg.path} to exist`);
      else ctx.health.failing(err, retryInMs);
    };

    const pass = async () => {
      cancelTimer = null;
      let delay = pollMs;
      try {
        const r = await tailer.poll(onLine, ctx.signal);
        savePosition();
        failures = 0;
        report(r.missing ? 'waiting' : 'ok');
        if (r.more) delay = 0;
      } catch (err) {
        // Unreadable file (permissions, a directory): keep trying, more slowly, as tail -F does.
        failures++;
        delay = backoffDelay(failures + 1, pollMs, 30_000, () => 0.5);
        report('failing', new Error(`cannot read ${cfg.path}: ${(err as Error).message}`), delay);
      }
      if (!ctx.signal.aborted) cancelTimer = ctx.setTimeout(() => void pass(), delay);
    };

    /** `monitor test`: the last lines the file holds now (matching the pattern), as if they were new. */
    const dryRun = async () => {
      const last: Array<{ line: string; truncated: boolean }> = [];
      if (!cfg.fromBeginning) await tailer.seekNearEnd(DRY_RUN_BYTES);
      const r = await tailer.poll((line, truncated) => {
        if (re && !re.test(line)) return;
        last.push({ line, truncated });
        if (last.length > DRY_RUN_LINES) last.shift();
      }, ctx.signal);
      if (r.missing) throw new Error(`${cfg.path} does not exist (yet)`);
      for (const l of last) await ctx.emit(toEvent(l.line, l.truncated)!);
      await tailer.close();
    };

    return {
      async start() {
        if (ctx.dryRun) return dryRun();
        // The first pass fixes where "the end" is before start() resolves: lines written right after the
        // monitor reports itself running must be read, not skipped as if they had been there before.
        await pass();
      },
      async stop() {
        cancelTimer?.();
        savePosition();
        await tailer.close();
      },
    };
  },
};

export default definition;

