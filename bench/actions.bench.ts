/**
 * Actions (issue #14): notification latency from event ack to the notification push, idle and in a 5,000 events/s
 * burst, with and without a webhook destination that never answers beside it; webhook actions drained per second to
 * a fast local receiver; and event acks (throughput, p99) while a 20,000-action backlog drains after a restart,
 * side by side with the same acks and no backlog. The engine runs in this process with a real store on disk; the
 * receivers are real HTTP servers on 127.0.0.1. "Ack" is `engine.emit` resolving: the event is durably stored.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Engine } from '../engine/engine.js';
import { silentLogger } from '../core/log.js';
import { channelPair } from '../core/rpc/channel.js';
import { openStore } from '../core/store/index.js';
import { newId } from '../core/ids.js';
import { quantile } from './helpers/stats.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (ms: number) => (Number.isFinite(ms) ? `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms` : '—');

async function receiver(mode: 'fast' | 'hang'): Promise<{ url: string; count: () => number; close(): Promise<void> }> {
  let n = 0;
  const server = http.createServer((req, res) => {
    n++;
    if (mode === 'hang') return; // accept, never answer
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    count: () => n,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

async function openEngine(dir: string): Promise<Engine> {
  return Engine.open({ dataDir: dir, log: silentLogger, startMonitors: false, seedDefaultRules: false });
}

/** Resolves each notification's push time by its event id, as a UI page connected to the engine would see it. */
function listen(engine: Engine): Map<string, number> {
  const got = new Map<string, number>();
  const [ours, theirs] = channelPair();
  engine.connect(theirs);
  ours.onMessage((m) => {
    if (m.kind === 'push' && m.topic === 'notification') got.set((m.data as { eventId: string }).eventId, performance.now());
  });
  return got;
}

/**
 * Events at `rate`/s for `seconds`; every `notifyEvery`-th is `door.open` (the notify rule), the rest `deploy.done`
 * (the webhook rule, when there is one). Latency: the push's time minus the ack's.
 */
async function notificationLatency(rate: number, seconds: number, notifyEvery: number, hookUrl: string | null): Promise<{ p50: number; p99: number; n: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-bench-actions-'));
  const engine = await openEngine(dir);
  try {
    const rules: unknown[] = [{ id: 'tell', name: 'tell', when: { type: 'door.open' }, then: [{ notify: { title: 'door {{ fields.n }}' } }] }];
    if (hookUrl) rules.push({ id: 'hook', name: 'hook', when: { type: 'deploy.done' }, then: [{ webhook: { url: hookUrl, timeoutMs: 120_000 } }] });
    await engine.request('rules.replaceAll', { rules });
    // This measures the way from ack to push, not the storm fold: with the shipped limits (5 per rule a minute) every
    // notification after the fifth would be folded into one and never pushed on its own.
    await engine.request('settings.update', { notifications: { storm: { perRule: 10_000, overall: 10_000, windowSeconds: 1 } } });
    const pushed = listen(engine);
    const acked = new Map<string, number>();
    const total = Math.round(rate * seconds);
    const start = performance.now();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const notify = i % notifyEvery === 0;
      pending.push(
        engine.emit('bench', { type: notify ? 'door.open' : 'deploy.done', title: `e${i}`, fields: { n: i } }).then((e) => {
          if (notify && e) acked.set(e.id, performance.now());
        }),
      );
    }
    await Promise.all(pending);
    const deadline = performance.now() + 30_000;
    while ([...acked.keys()].some((id) => !pushed.has(id)) && performance.now() < deadline) await sleep(20);
    const lat = [...acked].map(([id, t]) => (pushed.get(id) ?? Infinity) - t);
    return { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), n: lat.length };
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Acks of events emitted 64 at a time for `ms`: acks per second and the p99 of one ack. */
async function ackLoad(engine: Engine, ms: number): Promise<{ perSecond: number; p99: number }> {
  const lat: number[] = [];
  const end = performance.now() + ms;
  let i = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      await engine.emit('bench', { type: 'bench.tick', title: `t${i++}` });
      lat.push(performance.now() - t);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: 64 }, worker));
  return { perSecond: lat.length / ((performance.now() - start) / 1000), p99: quantile(lat, 0.99) };
}

/**
 * A data folder with `count` webhook actions waiting in the outbox (as a crash or a long outage leaves them), then
 * the engine started on it: how fast the backlog drains to a fast receiver, and how acks fare meanwhile.
 */
async function restartWithBacklog(count: number, hookUrl: string, received: () => number): Promise<{ drainPerSecond: number; drainMs: number; during: { perSecond: number; p99: number } }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-bench-backlog-'));
  try {
    const seed = await openEngine(dir);
    await seed.request('rules.replaceAll', { rules: [] });
    await seed.close();
    const store = openStore(dir);
    const lane = `webhook:${new URL(hookUrl).host}`;
    store.tx(() => {
      for (let i = 0; i < count; i++) store.outbox.add('backlog', newId(), 0, { webhook: { url: hookUrl, body: `{"i": ${i}}` } }, 'pending', lane);
    });
    store.close();
    const before = received();
    const t0 = performance.now();
    const engine = await openEngine(dir);
    try {
      const drained = (async () => {
        while (received() - before < count) await sleep(5);
        return performance.now() - t0;
      })();
      const during = await ackLoad(engine, 1_500);
      const drainMs = await drained;
      return { drainPerSecond: count / (drainMs / 1000), drainMs, during };
    } finally {
      await engine.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fast = await receiver('fast');
const hang = await receiver('hang');
try {
  const idle = await notificationLatency(20, 5, 1, null);
  const burst = await notificationLatency(5_000, 3, 50, fast.url);
  const burstHang = await notificationLatency(5_000, 3, 50, hang.url);

  const baseDir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-bench-acks-'));
  const base = await openEngine(baseDir);
  const quiet = await ackLoad(base, 1_500);
  await base.close();
  rmSync(baseDir, { recursive: true, force: true });
  const backlog = await restartWithBacklog(20_000, fast.url, fast.count);

  console.log('| Measure | Result |');
  console.log('|---|---|');
  console.log(`| Notification latency, idle (20 ev/s), p50 / p99 | ${fmt(idle.p50)} / ${fmt(idle.p99)} (${idle.n} notifications) |`);
  console.log(`| … in a 5,000 ev/s burst (1 in 50 notifies, the rest webhooks to a fast receiver), p50 / p99 | ${fmt(burst.p50)} / ${fmt(burst.p99)} (${burst.n}) |`);
  console.log(`| … same burst, the webhooks to a destination that never answers, p50 / p99 | ${fmt(burstHang.p50)} / ${fmt(burstHang.p99)} (${burstHang.n}) |`);
  console.log(`| Ratio p99 hanging / fast destination (side by side) | ${(burstHang.p99 / burst.p99).toFixed(2)} |`);
  console.log(`| Webhook actions drained to a fast local receiver | ${Math.round(backlog.drainPerSecond).toLocaleString('en')}/s (20,000 in ${(backlog.drainMs / 1000).toFixed(1)} s, from engine start) |`);
  console.log(`| Acks with no backlog: per second, p99 | ${Math.round(quiet.perSecond).toLocaleString('en')}/s, ${fmt(quiet.p99)} |`);
  console.log(`| Acks during the first 1.5 s after a restart with a 20,000-action backlog: per second, p99 | ${Math.round(backlog.during.perSecond).toLocaleString('en')}/s, ${fmt(backlog.during.p99)} |`);
  console.log(`| Ratio acks/s during the drain / with no backlog (side by side) | ${(backlog.during.perSecond / quiet.perSecond).toFixed(2)} |`);
} finally {
  await fast.close();
  await hang.close();
}
