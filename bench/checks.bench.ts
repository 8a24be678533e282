/**
 * Service checks: how many HTTP checks a minute the engine sustains, and the CPU it spends on them. The real monitor
 * host runs N `http` checks (keyword check on, state and samples into the real SQLite store) against a local HTTP
 * server that runs in a separate process, so its CPU is not counted; the engine's own CPU (process.cpuUsage, user +
 * system) is measured over a steady window after a warm-up. Target: 1,000 checks a minute under 10 % of one core.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MonitorHost } from '../core/monitor-host.js';
import { openStore } from '../core/store/index.js';
import { EventWriter } from '../engine/event-writer.js';
import { silentLogger } from '../core/log.js';
import httpCheck from '../monitors/http/index.js';

const WARMUP_MS = 8_000;
const WINDOW_MS = 30_000;
const INTERVAL_S = 6; // checks this often each; the rate is set by how many run

const SERVER = `
const http = require('node:http');
let n = 0;
http.createServer((req, res) => { n++; res.writeHead(200, { 'content-type': 'text/plain' }); res.end('status: all systems operational'); })
  .listen(0, '127.0.0.1', function () { process.stdout.write(String(this.address().port) + '\\n'); });
process.on('message', () => process.send(n));
`;

async function startServer(): Promise<{ port: number; requests(): Promise<number>; stop(): void }> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d) => resolve(Number(String(d).trim()))));
  return {
    port,
    requests: () => new Promise((resolve) => (child.once('message', (n) => resolve(n as number)), child.send('count'))),
    stop: () => void child.kill(),
  };
}

async function run(checks: number): Promise<{ perMinute: number; cpuPercent: number; failures: number }> {
  const server = await startServer();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-bench-checks-'));
  const store = openStore(dir);
  const writer = new EventWriter(store, silentLogger, () => {});
  let failures = 0;
  let measuring = false;
  const reasons = new Map<string, number>();
  const host = new MonitorHost({
    definitions: new Map([['http', httpCheck]]),
    stateFor: (id) => store.monitorState.forMonitor(id),
    emit: async (id, e, state) => void (await writer.emit(id, e, state)),
    log: silentLogger,
    onHealth: (h) => {
      if (measuring && (h.status === 'degraded' || h.status === 'failing')) {
        failures++;
        const why = (h.message ?? '').replace(/\d+/g, 'N');
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
      }
    },
  });
  for (let i = 0; i < checks; i++) {
    await host.start({ id: `http:bench-${i}`, type: 'http', name: `bench ${i}`, config: { url: `http://127.0.0.1:${server.port}/health/${i}`, interval: `${INTERVAL_S}s`, keyword: 'operational' }, secrets: {} });
  }
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  measuring = true;
  const r0 = await server.requests();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const c1 = process.cpuUsage(c0);
  const elapsed = performance.now() - t0;
  const r1 = await server.requests();
  await host.stopAll();
  writer.flush();
  store.close();
  server.stop();
  rmSync(dir, { recursive: true, force: true });
  if (reasons.size) console.error([...reasons].slice(0, 5).map(([k, v]) => `${v}× ${k}`).join('\n'));
  return { perMinute: Math.round(((r1 - r0) * 60_000) / elapsed), cpuPercent: Math.round(((c1.user + c1.system) / 1000 / elapsed) * 1000) / 10, failures };
}

console.log(`| checks | interval | HTTP checks / minute (measured) | engine CPU, % of one core | unhealthy reports |`);
console.log(`|---:|---:|---:|---:|---:|`);
for (const n of (process.env.BENCH_CHECKS ?? "100,200,400").split(",").map(Number)) {
  const r = await run(n);
  console.log(`| ${n} | ${INTERVAL_S} s | ${r.perMinute.toLocaleString('en')} | ${r.cpuPercent} | ${r.failures} |`);
}
console.log(`\nload average while measuring: ${os.loadavg().map((l) => l.toFixed(1)).join(', ')} (${os.cpus().length} CPUs)`);
