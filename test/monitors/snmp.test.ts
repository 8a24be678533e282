// The SNMP check against Debian's snmpd (v2c and v3) and traps sent by Debian's snmptrap, all on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import snmpCheck, { readable } from '../../monitors/snmp/index.js';
import { dryRunMonitor } from '../../core/monitor-host.js';
import { createTestContext } from './web-test-context.js';
import { runMonitor } from '../helpers/monitor-harness.js';
import { startSnmpd, sendTrap, freeUdpPort, type Snmpd } from '../helpers/snmpd.js';

const said = (t: { healthLog: string[] }) => t.healthLog.filter((h) => h !== 'ok').at(-1) ?? '';
let agent: Snmpd;
before(async () => {
  agent = await startSnmpd();
});
after(() => agent.stop());

async function oneCheck(config: Record<string, unknown>, secrets: Record<string, string> = {}) {
  const t = createTestContext(snmpCheck, { host: '127.0.0.1', port: agent.port, retries: 1, timeout: '1s', ...config, ...secrets });
  await t.instance.start();
  await t.tick();
  await t.stop();
  return t;
}

test('v2c GET and WALK: values read, a threshold crossed is snmp.threshold', async () => {
  const t = await oneCheck({
    oids: [
      { oid: '1.3.6.1.2.1.1.6.0', name: 'location' },
      { oid: '1.3.6.1.2.1.1.3.0', name: 'uptime', below: 10_000_000 },
    ],
    walk: ['1.3.6.1.2.1.1'],
  });
  assert.match(said(t), /^ok: up, \d+ ms$/);
  const values = t.events.find((e) => e.type === 'snmp.values')!;
  assert.equal((values.fields!.values as Record<string, unknown>).location, 'Panoptes test lab');
  assert.equal(typeof (values.fields!.values as Record<string, unknown>).uptime, 'number');
  assert.equal((values.fields!.walked as Record<string, unknown>)['1.3.6.1.2.1.1.4.0'], 'ops@example.test');
  const th = t.events.find((e) => e.type === 'snmp.threshold')!;
  assert.equal(th.fields!.name, 'uptime');
  assert.match(th.title!, /uptime is \d+ \(below 10000000\)/);
});

test('v3 with SHA authentication and AES privacy', async () => {
  const t = await oneCheck({ version: '3', user: agent.v3.user, oids: [{ oid: '1.3.6.1.2.1.1.4.0', name: 'contact' }] }, { authPassword: agent.v3.authPassword, privPassword: agent.v3.privPassword });
  assert.match(said(t), /^ok: up/);
  assert.equal((t.events.find((e) => e.type === 'snmp.values')!.fields!.values as Record<string, unknown>).contact, 'ops@example.test');
  const bad = await oneCheck({ version: '3', user: agent.v3.user }, { authPassword: 'not-the-password', privPassword: agent.v3.privPassword });
  assert.match(said(bad), /^degraded: down: /);
});

test('wrong community and an agent that is not there: a clear reason, no crash, no hang past the timeout', async () => {
  const started = Date.now();
  const wrong = await oneCheck({}, { community: 'guess-me' });
  assert.equal(said(wrong), `degraded: down: no SNMP answer from 127.0.0.1:${agent.port} within 1 s (wrong community string, SNMP off on the device, or a firewall)`);
  const silentPort = await freeUdpPort();
  const nobody = await oneCheck({ port: silentPort });
  assert.match(said(nobody), new RegExp(`^degraded: down: no SNMP answer from 127\\.0\\.0\\.1:${silentPort} within 1 s`), 'a timeout says so');
  assert.ok(Date.now() - started < 8_000);
  const missing = await oneCheck({ oids: [{ oid: '1.3.6.1.4.1.99999.1.0', name: 'nothing' }] });
  assert.match(said(missing), /answered, but not these OIDs: nothing: /);
  assert.equal(snmpCheck.configSchema.safeParse({ host: 'x', version: '3' }).success, false, 'v3 needs credentials');
  assert.equal(snmpCheck.configSchema.safeParse({ host: 'x', oids: [{ oid: 'sysUpTime' }] }).success, false, 'numeric OIDs');
});

test('traps sent to the receiver become snmp.trap events; a trap with another community is refused', async () => {
  const trapPort = await freeUdpPort();
  const run = await runMonitor(snmpCheck, { host: '127.0.0.1', port: agent.port, trapPort, trapAddress: '127.0.0.1', interval: '1m', emitValues: false }, { secrets: { community: 'public' } });
  await run.waitForHealth((h) => h.status === 'ok', 10_000, 'first check');
  await sendTrap(trapPort, 'wrong', '1.3.6.1.4.1.8072.2.3.0.1', [['1.3.6.1.4.1.8072.2.3.2.1', 'i', '1']]);
  await sendTrap(trapPort, 'public', '1.3.6.1.6.3.1.1.5.3', [['1.3.6.1.2.1.2.2.1.1.2', 'i', '2'], ['1.3.6.1.2.1.2.2.1.2.2', 's', 'eth1']]);
  const deadline = Date.now() + 10_000;
  while (!run.events.some((e) => e.type === 'snmp.trap') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const trap = run.events.find((e) => e.type === 'snmp.trap')!;
  assert.equal(trap.fields!.trapOid, '1.3.6.1.6.3.1.1.5.3');
  assert.equal(trap.fields!.from, '127.0.0.1');
  assert.match(trap.body!, /1\.3\.6\.1\.2\.1\.2\.2\.1\.2\.2 = eth1/);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(run.events.filter((e) => e.type === 'snmp.trap').length, 1, 'the wrong community was not accepted');
  await run.stop();
});

test('"Test now" and value reading', async () => {
  const events = await dryRunMonitor(snmpCheck, { host: '127.0.0.1', port: agent.port }, { community: 'public' });
  assert.deepEqual(events.map((e) => e.type), ['snmp.values', 'check.up', 'check.sample']);
  assert.equal(readable({ oid: '1', type: 4, value: Buffer.from('abc') }), 'abc');
  assert.equal(readable({ oid: '1', type: 4, value: Buffer.from([0, 1, 255]) }), '0001ff');
  assert.equal(readable({ oid: '1', type: 70, value: Buffer.from([0, 0, 0, 1, 0, 0, 0, 0]) }), 4294967296);
});
