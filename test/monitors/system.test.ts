import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import system, { type PanoptesStats } from '../../monitors/system/index.js';
import { dryRunMonitor } from '../../core/monitor-host.js';
import { createTestContext } from './web-test-context.js';

/** A /sys/class/power_supply look-alike: an AC adapter, a wireless mouse battery and the laptop battery. */
function powerSupplyDir(capacity: string, status: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'panoptes-power-'));
  const put = (name: string, files: Record<string, string>) => {
    mkdirSync(path.join(dir, name));
    for (const [f, v] of Object.entries(files)) writeFileSync(path.join(dir, name, f), v + '\n');
  };
  put('AC', { type: 'Mains', online: '1' });
  put('hidpp_battery_0', { type: 'Battery', scope: 'Device', capacity: '90', status: 'Discharging' });
  put('BAT0', { type: 'Battery', capacity, status });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('a sample reports CPU, memory and disk within range, the disk matching statfs, and the battery from sysfs', async (t) => {
  const power = powerSupplyDir('57', 'Charging');
  t.after(power.cleanup);
  const tmp = tmpdir();
  const events = await dryRunMonitor(system, { mounts: ['/', tmp], powerSupplyDir: power.dir, panoptesHealth: false });
  assert.deepEqual(events.map((e) => e.type), ['system.sample']);
  const f = events[0]!.fields as Record<string, any>;
  assert.ok(f.cpuPercent >= 0 && f.cpuPercent <= 100, `cpu ${f.cpuPercent}`);
  assert.ok(f.memoryPercent > 0 && f.memoryPercent < 100, `memory ${f.memoryPercent}`);
  assert.ok(f.memoryUsedBytes < f.memoryTotalBytes);
  const s = await statfs(tmp);
  const expected = Math.round((1000 * (s.blocks - s.bfree)) / (s.blocks - s.bfree + s.bavail)) / 10;
  assert.ok(Math.abs(f.disk[tmp] - expected) < 1, `disk ${f.disk[tmp]} vs df ${expected}`);
  assert.equal(f.disks.length, 2);
  assert.deepEqual(f.battery, { name: 'BAT0', percent: 57, charging: true, status: 'Charging' });
  assert.match(events[0]!.title, /battery 57% \(charging\)/);
});

test('no battery where the machine has none; an unreadable mount is reported after the sample went out', async (t) => {
  const empty = mkdtempSync(path.join(tmpdir(), 'panoptes-nopower-'));
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  const c = createTestContext(system, { mounts: ['/', '/no/such/mount'], powerSupplyDir: empty, panoptesHealth: false });
  await c.instance.start();
  await c.tick();
  assert.equal(c.events.length, 1);
  assert.equal(c.events[0]!.fields!.battery, null);
  assert.deepEqual(Object.keys(c.events[0]!.fields!.disk as object), ['/']);
  assert.match(c.errors[0]!, /cannot read disk usage of \/no\/such\/mount: ENOENT/);
  await c.stop();
});

test('with no mounts configured, "/" and the mounted disks are found', async () => {
  const [e] = await dryRunMonitor(system, { panoptesHealth: false });
  assert.ok(Object.keys(e!.fields.disk as object).includes('/'));
});

test('panoptes.health takes the store numbers from the ctx extension and turns the event counter into a rate', async () => {
  let stats: PanoptesStats = { eventsStored: 1000, processingLagMs: 12, storeBytes: 5_000_000 };
  const c = createTestContext(system, { mounts: ['/'] }, { extra: { panoptesStats: () => stats } });
  await c.instance.start();
  await c.tick();
  stats = { eventsStored: 1600, processingLagMs: 3, storeBytes: 5_100_000 };
  await new Promise((r) => setTimeout(r, 50));
  await c.tick();
  const health = c.events.filter((e) => e.type === 'panoptes.health');
  assert.equal(health.length, 2);
  assert.equal(health[0]!.fields!.eventsPerMinute, null, 'no rate from a single sample');
  const h = health[1]!.fields as Record<string, any>;
  assert.ok(h.eventsPerMinute > 0, 'rate from the counter growth');
  assert.equal(h.eventsStored, 1600);
  assert.equal(h.processingLagMs, 3);
  assert.equal(h.storeBytes, 5_100_000);
  assert.ok(h.rssBytes > 10 * 1024 * 1024, 'own resident memory');
  assert.deepEqual(c.errors, []);

  // A broken provider is a health error, but the samples still go out.
  const broken = createTestContext(system, { mounts: ['/'] }, { extra: { panoptesStats: () => { throw new Error('store closed'); } } });
  await broken.instance.start();
  await broken.tick();
  assert.deepEqual(broken.events.map((e) => e.type), ['system.sample', 'panoptes.health']);
  assert.equal(broken.events[1]!.fields!.eventsStored, null);
  assert.match(broken.errors[0]!, /statistics are unavailable: store closed/);
  await c.stop();
  await broken.stop();
});

test('without a provider, panoptes.health still reports the process memory', async () => {
  const events = await dryRunMonitor(system, { mounts: ['/'] });
  const h = events.find((e) => e.type === 'panoptes.health')!;
  assert.ok((h.fields.rssBytes as number) > 0);
  assert.equal(h.fields.storeBytes, null);
});

test('bad config names the field', async () => {
  await assert.rejects(dryRunMonitor(system, { interval: 'often' }), /interval: write a duration/);
});
