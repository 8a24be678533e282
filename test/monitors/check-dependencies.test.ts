// Dependencies between checks: while the parent (the router) is down, its children's downs are held and the
// parent's own "down" says how many checks it takes with it; when it is back, a child still down speaks for itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tcp from '../../monitors/tcp/index.js';
import { createTestContext } from './web-test-context.js';

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
