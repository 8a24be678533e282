// "No check blocks another" where it matters: many checks in one monitor host (the engine's), some of them stuck on
// targets that never answer — an HTTP server that hangs, a TCP host that drops handshakes, an SNMP agent and a DNS
// server that stay silent, a program that never exits — while a healthy check beside them answers at once. Each
// stuck one ends at its own timeout with a clear reason; nothing crashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { MonitorHost } from '../../core/monitor-host.js';
import { memoryState } from '../../core/store/monitor-state-store.js';
import { silentLogger } from '../../core/log.js';
import type { MonitorDefinition, MonitorHealth } from '../../core/monitor.js';
import http from '../../monitors/http/index.js';
import tcp from '../../monitors/tcp/index.js';
import snmp from '../../monitors/snmp/index.js';
import dns from '../../monitors/dns/index.js';
import command from '../../monitors/command/index.js';
import { startTestServer, hang } from '../helpers/http-server.js';
import { silentPort } from '../helpers/ports.js';

test('checks stuck on silent targets end at their timeouts with a reason, and do not delay a healthy check beside them', async (t) => {
  const web = await startTestServer();
  web.route('/hang', hang());
  const dropping = await silentPort();
  const mute = dgram.createSocket('udp4'); // takes SNMP and DNS requests and never answers
  await new Promise<void>((r) => mute.bind(0, '127.0.0.1', r));
  const mutePort = (mute.address() as AddressInfo).port;
  const live = net.createServer((s) => s.end());
  await new Promise<void>((r) => live.listen(0, '127.0.0.1', r));
  t.after(async () => {
    dropping.close();
    mute.close();
    live.close();
    await web.close();
  });

  const health = new Map<string, MonitorHealth & { at: number }>();
  // The first time each check gave up: on a loaded machine the slowest stuck check can give up after another has
  // already retried and moved on from degraded to failing, so the latest health alone is not what to wait for.
  const gaveUp = new Map<string, MonitorHealth & { at: number }>();
  const host = new MonitorHost({
    definitions: new Map<string, MonitorDefinition>([http, tcp, snmp, dns, command].map((d) => [d.type, d as MonitorDefinition])),
    stateFor: () => memoryState(),
    emit: async () => {},
    log: silentLogger,
    onHealth: (h) => {
      if (h.status === 'starting') return;
      health.set(h.monitorId, { ...h, at: Date.now() });
      if ((h.status === 'degraded' || h.status === 'failing') && !gaveUp.has(h.monitorId)) gaveUp.set(h.monitorId, { ...h, at: Date.now() });
    },
  });
  t.after(() => host.stopAll());
  const stuck = { timeout: '4s', retries: 1, interval: '1m' };
  const started = Date.now();
  await host.start({ id: 'http:hangs', type: 'http', name: 'Hangs', config: { url: web.url('/hang'), ...stuck }, secrets: {} });
  await host.start({ id: 'tcp:drops', type: 'tcp', name: 'Drops', config: { host: '127.0.0.1', port: dropping.port, ...stuck }, secrets: {} });
  await host.start({ id: 'snmp:mute', type: 'snmp', name: 'Mute agent', config: { host: '127.0.0.1', port: mutePort, ...stuck }, secrets: { community: 'public' } });
  await host.start({ id: 'dns:mute', type: 'dns', name: 'Mute resolver', config: { name: 'app.test', server: `127.0.0.1:${mutePort}`, ...stuck }, secrets: {} });
  await host.start({ id: 'command:never-exits', type: 'command', name: 'Never exits', config: { argv: ['sleep', '60'], ...stuck }, secrets: {} });
  await host.start({ id: 'tcp:healthy', type: 'tcp', name: 'Healthy', config: { host: '127.0.0.1', port: (live.address() as AddressInfo).port, retries: 1 }, secrets: {} });

  const wait = async (pred: () => boolean, what: string, ms: number) => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify([...health.values()].map((h) => [h.monitorId, h.status, h.message]))}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const stuckIds = ['http:hangs', 'tcp:drops', 'snmp:mute', 'dns:mute', 'command:never-exits'];
  await wait(() => stuckIds.every((id) => gaveUp.has(id)) && /^up/.test(health.get('tcp:healthy')?.message ?? ''), 'every stuck check to give up and the healthy one to answer', 30_000);
  // Started last, the healthy check would come after every stuck one's 4 s if checks waited on each other; it must
  // answer before the last of them gives up. (Not "before the first": on a loaded machine its own answer can take
  // seconds, which says nothing about blocking.)
  const healthyAt = health.get('tcp:healthy')!.at;
  const lastGaveUp = Math.max(...stuckIds.map((id) => gaveUp.get(id)!.at));
  assert.ok(healthyAt < lastGaveUp, `the healthy check answered at +${healthyAt - started} ms, after every stuck check had given up (+${lastGaveUp - started} ms)`);
  const said = Object.fromEntries(stuckIds.map((id) => [id, gaveUp.get(id)!.message]));
  // Under load the host's own limit on a check run can end the hanging request first: said as failing, in its words.
  assert.match(said['http:hangs']!, /^down: no answer from 127\.0\.0\.1:\d+ within 4 s|no answer within \d+ s/);
  assert.match(said['tcp:drops']!, /^down: no connection to 127\.0\.0\.1:\d+ within 4 s/);
  assert.match(said['snmp:mute']!, /^down: no SNMP answer from 127\.0\.0\.1:\d+ within 4 s/);
  assert.match(said['dns:mute']!, /^down: 127\.0\.0\.1:\d+ did not answer in time/);
  assert.match(said['command:never-exits']!, /^down: sleep did not finish within 4 s and was ended/);
  for (const id of stuckIds) assert.ok(gaveUp.get(id)!.at - started >= 3_500, `${id} waited for its own timeout`);
});
