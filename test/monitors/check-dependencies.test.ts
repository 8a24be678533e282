// Dependencies between checks: while the parent (the router) is down, its children's downs are held and the
// parent's own "down" says how many checks it takes with it; when it is back, a child still down speaks for itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tcp from '../../monitors/tcp/index.js';
import { createTestContext } from './web-test-context.js';
import { setMaintenanceSources, checksInMaintenance, type ScheduledMaintenance } from '../../core/maintenance.js';

async function listener(): Promise<{ port: number; close(): Promise<void>; reopen(): Promise<void> }> {
  let srv = net.createServer((s) => s.end());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  return {
    port,
    close: () => new Promise((r) => srv.close(() => r())),
    reopen: async () => {
      srv = net.createServer((s) => s.end());
      await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
    },
  };
}

test('router down: children held and counted in one "router down, 2 checks affected"; back up: a child still down is announced', async () => {
  const router = await listener();
  const nas = await listener();
  const printer = await listener();
  const check = (id: string, name: string, port: number, dependsOn?: string) =>
    createTestContext(tcp, { host: '127.0.0.1', port, retries: 1, ...(dependsOn ? { dependsOn } : {}) }, { extra: { id, name } });
  const r = check('tcp:router', 'Router', router.port);
  const a = check('tcp:nas', 'NAS', nas.port, 'tcp:router');
  const b = check('tcp:printer', 'Printer', printer.port, 'tcp:router');
  for (const t of [r, a, b]) await t.instance.start();
  const all = async () => {
    for (const t of [r, a, b]) await t.tick();
  };
  const downs = (t: typeof r) => t.events.filter((e) => e.type === 'check.down');
  await all();

  // The router goes away, and with it (as far as this machine can tell) everything behind it.
  await Promise.all([router.close(), nas.close(), printer.close()]);
  await all();
  await all();
  assert.equal(downs(r).length, 1);
  assert.match(downs(r)[0]!.title!, /^Router down, 2 checks affected: connection refused/);
  assert.deepEqual((downs(r)[0]!.fields!.affected as string[]).sort(), ['tcp:nas', 'tcp:printer']);
  assert.match(downs(r)[0]!.body!, /Also affected: (NAS, Printer|Printer, NAS)/);
  assert.equal(downs(a).length + downs(b).length, 0, 'the children said nothing');
  assert.match(a.healthLog.filter((h) => h !== 'ok').at(-1)!, /down \(held: tcp:router is down\)/);

  // The router and the NAS are back; the printer is not: now that is its own problem.
  await Promise.all([router.reopen(), nas.reopen()]);
  await all();
  await all();
  assert.equal(r.events.filter((e) => e.type === 'check.up').length, 1);
  assert.equal(a.events.filter((e) => e.type === 'check.up' || e.type === 'check.down').length, 0, 'the NAS was never announced down, so not up either');
  assert.equal(downs(b).length, 1);
  assert.match(downs(b)[0]!.title!, /^Printer down: connection refused/);
  for (const t of [r, a, b]) await t.stop();
  await Promise.all([router.close(), nas.close()]);
});

test('children checked just before their parent are held too, while the parent is failing but not yet announced down', async () => {
  const router = await listener();
  const nas = await listener();
  const check = (id: string, name: string, port: number, dependsOn?: string) =>
    createTestContext(tcp, { host: '127.0.0.1', port, retries: 3, ...(dependsOn ? { dependsOn } : {}) }, { extra: { id, name } });
  const r = check('tcp:router2', 'Router', router.port);
  const a = check('tcp:nas2', 'NAS', nas.port, 'tcp:router2');
  for (const t of [r, a]) await t.instance.start();
  const round = async () => {
    await a.tick(); // the child first, every round
    await r.tick();
  };
  await round();
  await Promise.all([router.close(), nas.close()]);
  for (let i = 0; i < 4; i++) await round();
  assert.equal(a.events.filter((e) => e.type === 'check.down').length, 0);
  assert.match(r.events.find((e) => e.type === 'check.down')!.title!, /^Router down, 1 check affected/);
  for (const t of [r, a]) await t.stop();
});

test('a down during a maintenance window is held, and announced when the window closes if the check is still down', async () => {
  const gone = await listener();
  await gone.close();
  const until = new Date(Date.now() + 1_500).toISOString();
  const t = createTestContext(tcp, { host: '127.0.0.1', port: gone.port, retries: 1, maintenance: [{ from: new Date(Date.now() - 60_000).toISOString(), until }] }, { extra: { id: 'tcp:maint', name: 'Service' } });
  await t.instance.start();
  await t.tick();
  await t.tick();
  assert.equal(t.events.filter((e) => e.type === 'check.down').length, 0);
  assert.match(t.healthLog.filter((h) => h !== 'ok').at(-1)!, /down \(held: in a maintenance window\)/);
  await new Promise((r) => setTimeout(r, Date.parse(until) - Date.now() + 50));
  await t.tick();
  assert.equal(t.events.filter((e) => e.type === 'check.down').length, 1, 'still down after the window: announced');
  await t.stop();
});

test('scheduled windows from the settings: one for a tag holds the downs of the checks carrying it, not of the others; the maintenance flag holds every check', async () => {
  const nas = await listener();
  const web = await listener();
  await Promise.all([nas.close(), web.close()]);
  let flag = false;
  const scheduled: ScheduledMaintenance[] = [{ id: 'nas-night', name: 'NAS updates', tags: ['nas'], from: new Date(Date.now() - 60_000).toISOString(), until: new Date(Date.now() + 3_600_000).toISOString() }];
  const sources = { scheduled: () => scheduled, manual: () => flag };
  setMaintenanceSources(sources);
  try {
    const a = createTestContext(tcp, { host: '127.0.0.1', port: nas.port, retries: 1, tags: ['nas'] }, { extra: { id: 'tcp:nas-tagged', name: 'NAS' } });
    const b = createTestContext(tcp, { host: '127.0.0.1', port: web.port, retries: 1 }, { extra: { id: 'tcp:web-untagged', name: 'Web' } });
    for (const t of [a, b]) await t.instance.start();
    for (const t of [a, b]) await t.tick();
    assert.equal(a.events.filter((e) => e.type === 'check.down').length, 0, 'the tagged check is held');
    assert.match(a.healthLog.filter((h) => h !== 'ok').at(-1)!, /down \(held: in maintenance window "NAS updates"\)/);
    assert.equal(b.events.filter((e) => e.type === 'check.down').length, 1, 'the other is not');
    assert.ok(b.events.every((e) => !(e.tags ?? []).includes('nas')));
    assert.ok(a.events.every((e) => (e.tags ?? []).includes('nas') && (e.tags ?? []).includes('tcp')), 'the check\'s tags are on its events');
    assert.deepEqual(checksInMaintenance(Date.now()).map((c) => c.id), ['tcp:nas-tagged']);

    // The flag: maintenance everywhere, so a newly failing check is held too.
    flag = true;
    const c = createTestContext(tcp, { host: '127.0.0.1', port: web.port, retries: 1 }, { extra: { id: 'tcp:web-2', name: 'Web 2' } });
    await c.instance.start();
    await c.tick();
    assert.equal(c.events.filter((e) => e.type === 'check.down').length, 0);
    assert.match(c.healthLog.filter((h) => h !== 'ok').at(-1)!, /held: the maintenance flag is on/);
    // Flag off and the window gone: the checks still down say so now.
    flag = false;
    scheduled.length = 0;
    await a.tick();
    await c.tick();
    assert.equal(a.events.filter((e) => e.type === 'check.down').length, 1);
    assert.equal(c.events.filter((e) => e.type === 'check.down').length, 1);
    for (const t of [a, b, c]) await t.stop();
    assert.deepEqual(checksInMaintenance(Date.now()), [], 'stopped checks are forgotten');
  } finally {
    setMaintenanceSources(null, sources);
  }
});

test('a flapping service (a real port closing and opening on every check) is announced at most once per minimum time in state', async () => {
  const port = await listener();
  const t = createTestContext(tcp, { host: '127.0.0.1', port: port.port, retries: 1, minTimeInState: '2s' }, { extra: { id: 'tcp:flapping', name: 'Flapping' } });
  await t.instance.start();
  await t.tick();
  let open = true;
  let flips = 0;
  const started = Date.now();
  // Flip between checks until two minimum times have passed, so a down and an up are both due.
  while (Date.now() - started < 4_500 || flips < 10) {
    if (open) await port.close();
    else await port.reopen();
    open = !open;
    flips++;
    await t.tick();
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!open) await port.reopen();
  await t.stop();
  await port.close();
  const changes = t.events.filter((e) => e.type === 'check.down' || e.type === 'check.up');
  assert.ok(changes.length >= 1 && changes[0]!.type === 'check.down', `the down was announced (${changes.map((e) => e.type).join(', ')})`);
  assert.ok(changes.length < flips / 2, `${changes.length} announcements for ${flips} flips`);
  for (const c of changes) {
    const lasted = (c.type === 'check.down' ? c.fields!.upForMs : c.fields!.downForMs) as number;
    assert.ok(lasted >= 2_000, `${c.type} after only ${lasted} ms in the state before`);
  }
});
