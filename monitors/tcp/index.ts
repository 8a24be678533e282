// TCP check: does host:port accept a connection, and how long does the handshake take.
import net from 'node:net';
import { z } from 'zod';
import type { MonitorDefinition } from '../../core/monitor.js';
import { parseDuration } from '../../core/duration.js';
import { checkEventDocs, checkInstance, checkOptionsShape, type CheckResult } from '../../core/check-state.js';
import { connectError } from '../../base/net-errors.js';

export const tcpConfigSchema = z.object({
  host: z.string().trim().min(1).meta({ label: 'Host', help: 'Name or address, e.g. db.lan or 192.168.1.10' }),
  port: z.number().int().min(1).max(65535).meta({ label: 'Port', help: 'TCP port, e.g. 22 or 5432' }),
  slowMs: z.number().int().min(1).optional().meta({ label: 'Slow above (ms)', help: 'A connection slower than this emits check.slow once.' }),
  ...checkOptionsShape({ interval: '1m', timeout: '5s' }),
});
export type TcpConfig = z.infer<typeof tcpConfigSchema>;

/** Connect, measure, close. Resolves with a result; never rejects. */
export function tcpConnect(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<CheckResult> {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect({ host, port });
    const done = (r: CheckResult) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(r);
    };
    const onAbort = () => done({ ok: false, reason: 'stopped' });
    const timer = setTimeout(() => done({ ok: false, reason: `no connection to ${where} within ${timeoutMs / 1000} s` }), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done({ ok: true, value: Math.round((performance.now() - started) * 10) / 10 }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, reason: connectError(err, where) }));
  });
}

const definition: MonitorDefinition<TcpConfig> = {
  type: 'tcp',
  badge: 'TCP',
  category: 'Checks',
  title: 'TCP port check',
  description: 'Checks that a host accepts connections on a port (a database, SSH, a game server); tells you once when it stops and once when it is back.',
  configSchema: tcpConfigSchema,
  minIntervalMs: 5_000,
  events: checkEventDocs('connect time, ms'),
  sources: (c) => [`${c.host.toLowerCase()}:${c.port}`],
  create(ctx) {
    const cfg = ctx.config;
    const timeoutMs = parseDuration(cfg.timeout);
    return checkInstance(ctx, {
      kind: 'tcp',
      target: `${cfg.host}:${cfg.port}`,
      formatValue: (v) => `${Math.round(v)} ms`,
      probe: async (signal) => {
        const r = await tcpConnect(cfg.host, cfg.port, timeoutMs, signal);
        return r.ok && cfg.slowMs !== undefined ? { ...r, slow: (r.value ?? 0) > cfg.slowMs } : r;
      },
    });
  },
};

export default definition;
