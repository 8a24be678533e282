// Ping check: ICMP reachability and round-trip time through the system's `ping` (iputils), which already has the
// privilege to send ICMP — Panoptes opens no raw sockets of its own.
import { execFile } from 'node:child_process';
import { z } from 'zod';
import type { MonitorDefinition } from '../../core/monitor.js';
import { parseDuration } from '../../core/duration.js';
import { checkEventDocs, checkInstance, checkOptionsShape, type CheckResult } from '../../core/check-state.js';

/** Host names and addresses only: the value becomes an argument of `ping`, so nothing that looks like an option. */
const HOST = /^[A-Za-z0-9_.:%-]+$/;

export const pingConfigSchema = z.object({
  host: z
    .string()
    .trim()
    .min(1)
    .refine((h) => HOST.test(h) && !h.startsWith('-'), { message: 'a host name or IP address, e.g. router.lan or 192.168.1.1' })
    .meta({ label: 'Host', help: 'Name or address to ping, e.g. 192.168.1.1' }),
  packets: z.number().int().min(1).max(10).default(3).meta({ label: 'Packets', help: 'Echo requests per check; the check is up if any answer.' }),
  maxLossPercent: z.number().min(0).max(100).default(100).meta({ label: 'Down above loss (%)', help: 'Down when more than this share of packets is lost (100: only when none answer).' }),
  slowMs: z.number().min(0).optional().meta({ label: 'Slow above (ms)', help: 'An average round trip slower than this emits check.slow once.' }),
  ...checkOptionsShape({ interval: '1m', timeout: '5s' }),
});
export type PingConfig = z.infer<typeof pingConfigSchema>;

export interface PingOutcome {
  sent: number;
  received: number;
  avgMs: number | null;
}

/** Read iputils' summary: "3 packets transmitted, 2 received" and "rtt min/avg/max/mdev = 0.1/0.2/0.3/0.0 ms". */
export function parsePing(out: string): PingOutcome | null {
  const counts = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(out);
  if (!counts) return null;
  const rtt = /= [\d.]+\/([\d.]+)\/[\d.]+\/[\d.]+ ms/.exec(out);
  return { sent: Number(counts[1]), received: Number(counts[2]), avgMs: rtt ? Number(rtt[1]) : null };
}

function ping(host: string, packets: number, timeoutMs: number, signal: AbortSignal): Promise<CheckResult> {
  const waitS = Math.max(1, Math.ceil(timeoutMs / 1000));
  // -n: no reverse lookups; -W: wait per reply; -w: a deadline for the whole run, so ping itself cannot hang.
  const args = ['-n', '-c', String(packets), '-i', '0.2', '-W', String(waitS), '-w', String(waitS + 1), '--', host];
  return new Promise((resolve) => {
    execFile('ping', args, { timeout: timeoutMs + 3_000, signal, maxBuffer: 64 * 1024 }, (err, stdout, stderr) => {
      const outcome = parsePing(stdout);
      if (!outcome) {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean }) | null;
        if (e?.code === 'ENOENT') return resolve({ ok: false, reason: 'the system has no "ping" command (install iputils-ping)' });
        const text = (stderr || stdout || e?.message || '').trim().split('\n').pop() ?? '';
        return resolve({ ok: false, reason: /unknown host|not known|Name or service/i.test(text) ? `cannot resolve host ${host}` : `ping ${host} failed: ${text || 'no output'}` });
      }
      resolve({ ok: outcome.received > 0, value: outcome.avgMs, reason: outcome.received ? null : `no answer from ${host} (${outcome.sent} packets lost)`, fields: { sent: outcome.sent, received: outcome.received, lossPercent: Math.round((1 - outcome.received / outcome.sent) * 100) } });
    });
  });
}

const definition: MonitorDefinition<PingConfig> = {
  type: 'ping',
  badge: 'PING',
  category: 'Checks',
  title: 'Ping',
  description: 'Pings a host (with the system\'s ping) and tells you once when it stops answering and once when it is back; charts the round-trip time.',
  configSchema: pingConfigSchema,
  minIntervalMs: 5_000,
  events: checkEventDocs('average round trip, ms').map((d) => (d.type === 'check.down' ? { ...d, fields: { ...d.fields, sent: 'Packets sent', received: 'Packets answered', lossPercent: 'Share lost' } } : d)),
  sources: (c) => [c.host.toLowerCase()],
  create(ctx) {
    const cfg = ctx.config;
    const timeoutMs = parseDuration(cfg.timeout);
    return checkInstance(ctx, {
      kind: 'ping',
      target: cfg.host,
      formatValue: (v) => `${v < 10 ? v.toFixed(2) : Math.round(v)} ms`,
      probe: async (signal) => {
        const r = await ping(cfg.host, cfg.packets, timeoutMs, signal);
        const loss = (r.fields?.lossPercent as number | undefined) ?? 100;
        if (r.ok && loss > cfg.maxLossPercent) return { ...r, ok: false, reason: `${loss}% of packets to ${cfg.host} lost (more than ${cfg.maxLossPercent}%)` };
        return r.ok && cfg.slowMs !== undefined && r.value != null ? { ...r, slow: r.value > cfg.slowMs } : r;
      },
    });
  },
};

export default definition;
