// System: a `system.sample` (CPU, memory, disks, battery) every N seconds, and a `panoptes.health` sample of
// Panoptes itself (its memory, event rate, processing lag, store size) so rules can warn about either.
import os from 'node:os';
import { z } from 'zod';
import { sleep } from '../../base/sleep.js';
import type { MonitorDefinition } from '../../core/monitor.js';
import { isDuration, parseDuration } from '../../core/duration.js';
import { battery, cpuPercent, cpuTimes, discoverMounts, disk, memory, type CpuTimes } from './probes.js';
import { registeredPanoptesStatsProvider, type PanoptesStatsContext } from '../../core/panoptes-stats.js';

export { setPanoptesStatsProvider, type PanoptesStats, type PanoptesStatsProvider, type PanoptesStatsContext } from '../../core/panoptes-stats.js';

const MIN_INTERVAL_MS = 5_000;
/** The first CPU reading needs two snapshots; this is the gap between them. */
const FIRST_CPU_WINDOW_MS = 500;

export const systemConfigSchema = z.object({
  interval: z.string().default('1m').refine(isDuration, { message: 'write a duration like "30s" or "5m"' }).meta({ label: 'Sample every', help: 'How often to take a sample (at least 5s).' }),
  mounts: z
    .array(z.string().min(1))
    .default([])
    .meta({ label: 'Disks (mount points)', help: 'Mount points to report, e.g. "/" and "/home". Empty: "/" and every mounted disk.' }),
  battery: z.boolean().default(true).meta({ label: 'Battery', help: 'Report the battery level and charging state, where the machine has a battery.' }),
  panoptesHealth: z.boolean().default(true).meta({ label: "Panoptes' own health", help: 'Also emit panoptes.health: memory, event rate, processing lag and store size of Panoptes itself.' }),
  powerSupplyDir: z.string().default('/sys/class/power_supply').meta({ label: 'Power supply directory', help: 'Where Linux lists batteries; change only for unusual systems.' }),
});
export type SystemConfig = z.infer<typeof systemConfigSchema>;

const definition: MonitorDefinition<SystemConfig> = {
  type: 'system',
  badge: 'SYS',
  category: 'This machine',
  title: 'System',
  description: 'Samples CPU, memory, disk and battery usage every few seconds, and the health of Panoptes itself.',
  configSchema: systemConfigSchema,
  minIntervalMs: MIN_INTERVAL_MS,
  events: [
    {
      type: 'system.sample',
      description: 'One sample of the machine.',
      fields: {
        cpuPercent: 'Busy share of all cores since the last sample, 0–100',
        loadAverage: '1-minute load average (0 on Windows)',
        memoryPercent: 'Memory in use (total minus available), 0–100',
        memoryUsedBytes: 'Memory in use, bytes',
        memoryTotalBytes: 'Installed memory, bytes',
        disk: 'Percent used per mount point, e.g. { "/": 71.3, "/home": 40.2 }',
        disks: '[{ mount, percent, usedBytes, freeBytes, totalBytes }] per mount point',
        battery: '{ name, percent, charging, status } or null where there is no battery',
      },
    },
    {
      type: 'panoptes.health',
      description: 'One sample of Panoptes itself.',
      fields: {
        rssBytes: 'Resident memory of the engine process, bytes',
        heapUsedBytes: 'JavaScript heap in use, bytes',
        eventsStored: 'Events in the store (null if the engine did not provide it)',
        eventsPerMinute: 'Events stored per minute since the previous sample (null on the first)',
        processingLagMs: 'How far the rules lag behind the store, ms (null if unknown)',
        storeBytes: 'Size of the database on disk, bytes (null if unknown)',
        uptimeSeconds: 'Seconds since the engine started',
      },
    },
  ],
  create(ctx) {
    const cfg = ctx.config;
    const intervalMs = Math.max(parseDuration(cfg.interval), MIN_INTERVAL_MS);
    let lastCpu: CpuTimes | null = null;
    let lastCount: { count: number; at: number } | null = null;
    let mounts: string[] | null = cfg.mounts.length ? cfg.mounts : null;

    const sample = async (signal: AbortSignal) => {
      if (!lastCpu) {
        lastCpu = cpuTimes();
        await sleep(FIRST_CPU_WINDOW_MS, signal);
        if (signal.aborted) throw new Error('stopped');
      }
      const nowCpu = cpuTimes();
      const cpu = cpuPercent(lastCpu, nowCpu);
      lastCpu = nowCpu;
      const mem = await memory();
      mounts ??= await discoverMounts();
      const disks = [];
      const diskErrors: string[] = [];
      for (const m of mounts) {
        try {
          disks.push(await disk(m));
        } catch (err) {
          diskErrors.push(`${m}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      }
      const bat = cfg.battery ? await battery(cfg.powerSupplyDir) : null;
      const diskText = disks.map((d) => `${d.mount} ${d.percent}%`).join(', ');
      await ctx.emit({
        type: 'system.sample',
        title: `CPU ${cpu ?? '?'}%, memory ${mem.percent}%${diskText ? `, disk ${diskText}` : ''}${bat?.percent != null ? `, battery ${bat.percent}%${bat.charging ? ' (charging)' : ''}` : ''}`,
        fields: {
          cpuPercent: cpu,
          loadAverage: Math.round(loadAverage() * 100) / 100,
          memoryPercent: mem.percent,
          memoryUsedBytes: mem.usedBytes,
          memoryTotalBytes: mem.totalBytes,
          disk: Object.fromEntries(disks.map((d) => [d.mount, d.percent])),
          disks,
          battery: bat,
        },
        tags: ['system'],
      });

      if (cfg.panoptesHealth) await emitSelf();
      // A configured mount that cannot be read is a setup problem the user should see, after the sample went out.
      if (diskErrors.length) throw new Error(`cannot read disk usage of ${diskErrors.join('; ')}`);
    };

    const emitSelf = async () => {
      const provider = (ctx as PanoptesStatsContext).panoptesStats ?? registeredPanoptesStatsProvider();
      const mem = process.memoryUsage();
      let stats = null;
      let problem: string | null = null;
      if (provider) {
        try {
          stats = await provider();
        } catch (err) {
          problem = `Panoptes' own statistics are unavailable: ${(err as Error).message}`;
        }
      }
      const now = Date.now();
      let perMinute: number | null = null;
      if (stats && lastCount && now > lastCount.at && stats.eventsStored >= lastCount.count) {
        perMinute = Math.round(((stats.eventsStored - lastCount.count) * 60_000) / (now - lastCount.at) * 10) / 10;
      }
      if (stats) lastCount = { count: stats.eventsStored, at: now };
      await ctx.emit({
        type: 'panoptes.health',
        title: `Panoptes: ${Math.round(mem.rss / 1048576)} MB${perMinute !== null ? `, ${perMinute} events/min` : ''}${stats?.processingLagMs != null ? `, lag ${stats.processingLagMs} ms` : ''}`,
        fields: {
          rssBytes: mem.rss,
          heapUsedBytes: mem.heapUsed,
          eventsStored: stats?.eventsStored ?? null,
          eventsPerMinute: perMinute,
          processingLagMs: stats?.processingLagMs ?? null,
          storeBytes: stats?.storeBytes ?? null,
          uptimeSeconds: Math.round(process.uptime()),
        },
        tags: ['panoptes'],
      });
      if (problem) throw new Error(problem);
    };

    return {
      start() {
        ctx.every(intervalMs, sample, { timeoutMs: 20_000 });
      },
      stop() {},
    };
  },
};

export default definition;

/** os.loadavg() is [0, 0, 0] on Windows; that is what we report there. */
function loadAverage(): number {
  return os.loadavg()[0] ?? 0;
}

