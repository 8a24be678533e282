import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { MonitorHost, dryRunMonitor, backoffDelay, secretFields } from '../../core/monitor-host.js';
import type { MonitorDefinition, MonitorHealth } from '../../core/monitor.js';
import { memoryState } from '../../core/store/index.js';
import { silentLogger } from '../../core/log.js';
import { waitFor } from '../helpers/tmp.js';
import { closedPort } from '../helpers/ports.js';

function def(type: string, create: MonitorDefinition['create'], schema: z.ZodType = z.object({})): MonitorDefinition {
  return { type, title: type, description: type, configSchema: schema, events: [], minIntervalMs: 10, create };
}

function hostWith(defs: MonitorDefinition[], emitted: { id: string; title?: string }[] = [], health = new Map<string, MonitorHealth>()) {
  return new MonitorHost({
    definitions: new Map(defs.map((d) => [d.type, d])),
    stateFor: () => memoryState(),
    emit: async (id, e) => void emitted.push({ id, title: e.title }),
    log: silentLogger,
    onHealth: (h) => health.set(h.monitorId, h),
    restartBaseMs: 20,
    restartCapMs: 200,
    random: () => 0.5,
  });
}

test('a throwing, a hanging and a crashing monitor are reported as failing while a healthy one keeps emitting', async (t) => {
  const emitted: { id: string; title?: string }[] = [];
  const health = new Map<string, MonitorHealth>();
  let ticks = 0;
  const host = hostWith(
    [
      def('good', (ctx) => ({ start: () => ctx.every(10, async () => void (await ctx.emit({ type: 'good.tick', title: `t${++ticks}` }))), stop() {} })),
      def('throws', (ctx) => ({ start: () => ctx.every(10, async () => { throw new Error('feed is garbage'); }), stop() {} })),
      def('hangs', (ctx) => ({ start: () => ctx.every(10, () => new Promise(() => {}), { timeoutMs: 50 }), stop() {} })),
      def('timer', (ctx) => ({ start: () => void ctx.setTimeout(() => { throw new Error('boom in a timer'); }, 5), stop() {} })),
    ],
    emitted,
    health,
  );
  t.after(() => host.stopAll());
  for (const type of ['good', 'throws', 'hangs', 'timer']) await host.start({ id: `${type}:x`, type, name: type, config: {}, secrets: {} });
  await waitFor(() => ticks >= 5 && health.get('hangs:x')?.status === 'failing' && health.get('timer:x')?.status === 'failing', 'all verdicts', 5_000);
  assert.equal(health.get('good:x')!.status, 'ok');
  assert.equal(health.get('throws:x')!.lastError, 'feed is garbage');
  assert.ok(health.get('throws:x')!.nextRetry, 'next attempt is shown');
  assert.match(health.get('hangs:x')!.lastError!, /no answer within/);
  assert.match(health.get('timer:x')!.lastError!, /boom in a timer/);
  assert.ok(emitted.every((e) => e.id === 'good:x'));
});

test('failures back off exponentially with jitter, capped', () => {
  const delays = [1, 2, 3, 4, 10].map((n) => backoffDelay(n, 1_000, 5_000, () => 0.5));
  assert.deepEqual(delays, [1_000, 2_000, 4_000, 5_000, 5_000]);
  assert.ok(backoffDelay(1, 1_000, 5_000, () => 0) >= 800 && backoffDelay(1, 1_000, 5_000, () => 1) <= 1_200);
});

test('recovery resets the failure count', async (t) => {
  const health = new Map<string, MonitorHealth>();
  let n = 0;
  const host = hostWith([def('flaky', (ctx) => ({ start: () => ctx.every(10, async () => { if (++n <= 2) throw new Error('down'); }), stop() {} }))], [], health);
  t.after(() => host.stopAll());
  await host.start({ id: 'flaky:x', type: 'flaky', name: 'f', config: {}, secrets: {} });
  await waitFor(() => n >= 3 && health.get('flaky:x')?.status === 'ok', 'recovery', 5_000);
  assert.equal(health.get('flaky:x')!.consecutiveFailures, 0);
  assert.equal(health.get('flaky:x')!.nextRetry, null);
});

test('a bad config is a health error naming the field, and the monitor is not started', async (t) => {
  const health = new Map<string, MonitorHealth>();
  let created = false;
  const host = hostWith([def('needsurl', () => ((created = true), { start() {}, stop() {} }), z.object({ url: z.url() }))], [], health);
  t.after(() => host.stopAll());
  await host.start({ id: 'needsurl:x', type: 'needsurl', name: 'n', config: { url: 'not a url' }, secrets: {} });
  assert.equal(health.get('needsurl:x')!.status, 'failing');
  assert.match(health.get('needsurl:x')!.message!, /\$\.url/);
  assert.equal(created, false);
});

test('dry run emits with throw-away state and reports an unreachable source', async () => {
  const d = def('probe', (ctx) => ({
    start: () => ctx.every(60_000, async () => {
      ctx.state.set('seen', true);
      await ctx.emit({ type: 'probe.item', title: 'now' });
    }),
    stop() {},
  }));
  const events = await dryRunMonitor(d, {});
  assert.deepEqual(events.map((e) => [e.type, e.title, e.source]), [['probe.item', 'now', 'probe:dry-run']]);
  const port = await closedPort();
  const unreachable = def('down', (ctx) => ({ start: () => ctx.every(1000, async () => void (await ctx.fetch(`http://127.0.0.1:${port}/`))), stop() {} }));
  await assert.rejects(dryRunMonitor(unreachable, {}), new RegExp(`connection refused by 127\\.0\\.0\\.1:${port}`));
});

test('secret fields are found from the schema meta', () => {
  const d = def('s', () => ({ start() {}, stop() {} }), z.object({ user: z.string(), password: z.string().meta({ secret: true }) }));
  assert.deepEqual(secretFields(d), ['password']);
});
