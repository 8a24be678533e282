// Process: is a program running (by name, or a pattern over its command line), how many of it, and are its CPU
// and memory over thresholds — the Zenoss agent's process monitoring. Up/down as a check; `process.over` once when
// a threshold is crossed and `process.normal` once when it is back under.
import { z } from 'zod';
import { UserRegex, userRegexProblem } from '../../core/user-regex.js';
import type { NewEvent } from '../../core/event.js';
import type { MonitorDefinition } from '../../core/monitor.js';
import { checkEventDocs, checkOptionsShape, runCheck, type CheckResult } from '../../core/check-state.js';
import { listProcesses, TICKS_PER_SECOND, type ProcInfo } from './proc.js';

export const processConfigSchema = z
  .object({
    name: z.string().trim().min(1).optional().meta({ label: 'Program name', help: 'Exact name, e.g. nginx or postgres (the kernel\'s name or the program file\'s).' }),
    commandLine: z
      .string()
      .min(1)
      // Runs on the linear-time engine (core/user-regex.ts); the message says what is wrong with a pattern it refuses.
      .superRefine((p, ctx) => {
        const problem = userRegexProblem(p, 'u');
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional()
      .meta({ label: 'Command line matches', help: 'A pattern over the full command line, e.g. "python3 .*backup\\.py". Linear-time (RE2).' }),
    minCount: z.number().int().min(0).default(1).meta({ label: 'At least', help: 'Down when fewer matching processes run (0: never down for being absent).' }),
    maxCount: z.number().int().min(1).optional().meta({ label: 'At most', help: 'process.over when more run (a fork bomb, a stuck cron job piling up).' }),
    maxCpuPercent: z.number().min(0).optional().meta({ label: 'CPU over (%)', help: 'process.over when all matching processes together use more (100 = one full core).' }),
    maxMemoryMB: z.number().min(0).optional().meta({ label: 'Memory over (MB)', help: 'process.over when their resident memory together is more.' }),
    ...checkOptionsShape({ interval: '1m', timeout: '10s' }),
  })
  .refine((c) => c.name !== undefined || c.commandLine !== undefined, { message: 'give a program name or a command line pattern', path: ['name'] });
export type ProcessConfig = z.infer<typeof processConfigSchema>;

const definition: MonitorDefinition<ProcessConfig> = {
  type: 'process',
  badge: 'PROC',
  category: 'Checks',
  title: 'Process',
  description: 'Checks that a program is running (by name or command line), how many of it, and whether its CPU or memory use is over a limit.',
  configSchema: processConfigSchema,
  minIntervalMs: 5_000,
  events: [
    ...checkEventDocs('CPU, % of one core').map((d) => (d.type === 'check.down' || d.type === 'check.up' ? { ...d, fields: { ...d.fields, count: 'Matching processes', pids: 'Their process ids (at most 50)' } } : d)),
    { type: 'process.over', description: 'A threshold was crossed (once, until back under).', fields: { over: 'Which: count, cpu, memory', count: 'Matching processes', cpuPercent: 'Their CPU together', memoryMB: 'Their resident memory together, MB', pids: 'Process ids (at most 50)' } },
    { type: 'process.normal', description: 'Back under every threshold.', fields: { count: 'Matching processes', cpuPercent: 'CPU', memoryMB: 'Memory, MB' } },
  ],
  create(ctx) {
    const cfg = ctx.config;
    const pattern = cfg.commandLine !== undefined ? new UserRegex(cfg.commandLine, 'u') : null;
    const what = [cfg.name, cfg.commandLine && `/${cfg.commandLine}/`].filter(Boolean).join(' ');
    let last: { at: number; ticks: Map<number, number> } | null = null;
    let stop = () => {};

    const matches = (p: ProcInfo) =>
      p.pid !== process.pid && (cfg.name === undefined || p.name === cfg.name || p.exe === cfg.name) && (!pattern || pattern.matches(p.cmdline));

    const probe = async (): Promise<CheckResult> => {
      const at = performance.now();
      const found = (await listProcesses()).filter(matches);
      // CPU is the ticks used since the previous check by the processes seen both times (a first check has none).
      const ticks = new Map(found.map((p) => [p.pid, p.cpuTicks]));
      let cpu: number | null = null;
      if (last && at > last.at) {
        let used = 0;
        for (const p of found) used += Math.max(0, p.cpuTicks - (last.ticks.get(p.pid) ?? p.cpuTicks));
        cpu = Math.round(((used / TICKS_PER_SECOND) / ((at - last.at) / 1000)) * 1000) / 10;
      }
      last = { at, ticks };
      const memoryMB = Math.round(found.reduce((s, p) => s + p.rssBytes, 0) / 104857.6) / 10;
      const count = found.length;
      const pids = found.slice(0, 50).map((p) => p.pid);
      const over: string[] = [];
      if (cfg.maxCount !== undefined && count > cfg.maxCount) over.push(`count ${count} > ${cfg.maxCount}`);
      if (cfg.maxCpuPercent !== undefined && cpu !== null && cpu > cfg.maxCpuPercent) over.push(`CPU ${cpu}% > ${cfg.maxCpuPercent}%`);
      if (cfg.maxMemoryMB !== undefined && memoryMB > cfg.maxMemoryMB) over.push(`memory ${memoryMB} MB > ${cfg.maxMemoryMB} MB`);
      const events: NewEvent[] = [];
      const wasOver = ctx.dryRun ? false : (ctx.state.get<boolean>('over') ?? false);
      const isOver = over.length > 0;
      const fields = { count, cpuPercent: cpu, memoryMB, pids };
      if (isOver && !wasOver) events.push({ type: 'process.over', title: `${what}: ${over.join(', ')}`, fields: { ...fields, over: over.map((o) => o.split(' ')[0]!.toLowerCase()) } });
      if (!isOver && wasOver) events.push({ type: 'process.normal', title: `${what} back under its limits`, fields });
      const state = !ctx.dryRun && isOver !== wasOver ? { over: isOver } : undefined;
      const base = { value: cpu, events, fields, ...(state ? { state } : {}) };
      if (count < cfg.minCount) return { ...base, ok: false, reason: count === 0 ? `${what} is not running` : `only ${count} of ${what} running (at least ${cfg.minCount})` };
      return { ...base, ok: true };
    };

    return {
      start() {
        stop = runCheck(ctx, { kind: 'process', target: what, probe, formatValue: (v) => `CPU ${v}%` });
      },
      stop: () => stop(),
    };
  },
};

export default definition;
