// The rules' `mqtt` action through the real outbox, and the embedded broker, against real brokers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { freePort } from '../helpers/ports.js';
import { mosquittoAvailable, startMosquitto } from '../helpers/mosquitto.js';
import { logOf, writeConfig } from './helpers.js';
import { idempotencyKey } from '../../engine/idempotency.js';

const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';

test('a rule publishes a templated message with the mqtt action (retained, QoS 1)', { skip }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.close());
  const dir = tempDir(t);
  writeConfig(dir, {
    forwarding: { actionBroker: { url: broker.url } },
    rules: [
      {
        id: 'to-home-assistant',
        when: { type: 'test.*' },
        then: [{ mqtt: { topic: 'panoptes-out/{{ fields.room }}', payload: '{"title": {{ title | json }}, "n": {{ fields.n }}}', retain: true, qos: 1 } }],
      },
    ],
  });
  const engine = await Engine.open({ dataDir: dir, log: silentLogger, startMonitors: false });
  t.after(() => engine.close());
  // An MQTT 5 subscriber, as Home Assistant or Node-RED can be: it sees the action's idempotency key.
  const sub = await connectAsync(broker.url, { protocolVersion: 5 });
  t.after(() => sub.endAsync());
  const got: { topic: string; payload: string; retain: boolean }[] = [];
  const keys: unknown[] = [];
  sub.on('message', (topic, payload, packet) => {
    got.push({ topic, payload: payload.toString(), retain: packet.retain });
    keys.push(packet.properties?.userProperties?.['idempotency-key']);
  });
  await sub.subscribeAsync('panoptes-out/#', { qos: 1 });

  const event = await engine.emit('test:gen', { type: 'test.door', title: 'Door "front" opened', fields: { room: 'hall', n: 3 } });
  await waitFor(() => got.length === 1, 'the published message', 15_000);
  assert.deepEqual(got[0], { topic: 'panoptes-out/hall', payload: '{"title": "Door \\"front\\" opened", "n": 3}', retain: false });
  assert.equal(keys[0], idempotencyKey('to-home-assistant', event!.id, 0), 'the key rides as the MQTT 5 user property idempotency-key');
  assert.deepEqual(JSON.parse(got[0]!.payload), { title: 'Door "front" opened', n: 3 });

  // Retained: a subscriber that comes later still gets the last value.
  const late = await connectAsync(broker.url);
  t.after(() => late.endAsync());
  const retained = new Promise<string>((resolve) => late.on('message', (_t, p, packet) => packet.retain && resolve(p.toString())));
  await late.subscribeAsync('panoptes-out/hall', { qos: 1 });
  assert.equal(JSON.parse(await retained).n, 3);
});

test('the mqtt action waits out a broker outage through the outbox, and a wildcard topic fails for good', { skip }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.close());
  const dir = tempDir(t);
  writeConfig(dir, {
    forwarding: { actionBroker: { url: broker.url } },
    rules: [
      { id: 'out', when: { type: 'test.ok' }, then: [{ mqtt: { topic: 'out/ok', payload: '{{ title }}', qos: 1, retain: true } }] },
      { id: 'bad', when: { type: 'test.bad' }, then: [{ mqtt: { topic: 'out/{{ fields.t }}', payload: 'x' } }] },
    ],
  });
  const engine = await Engine.open({ dataDir: dir, log: silentLogger, startMonitors: false });
  t.after(() => engine.close());
  await broker.stop();
  await engine.emit('test:gen', { type: 'test.bad', fields: { t: '#' } });
  await engine.emit('test:gen', { type: 'test.ok', title: 'while down' });
  await waitFor(() => engine.store.db.prepare(`SELECT status FROM outbox WHERE rule_id = 'bad'`).pluck().get() === 'failed', 'the bad action to fail', 15_000);
  const bad = engine.store.db.prepare(`SELECT last_error FROM outbox WHERE rule_id = 'bad'`).pluck().get() as string;
  assert.match(bad, /wildcards/);

  // The good one is being tried while the broker is down.
  await waitFor(() => engine.store.db.prepare(`SELECT status FROM outbox WHERE rule_id = 'out'`).pluck().get() === 'inflight', 'the action to be tried', 15_000);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(engine.store.db.prepare(`SELECT status FROM outbox WHERE rule_id = 'out'`).pluck().get(), 'inflight', 'not done while the broker is down');
  await broker.start();
  const sub = await connectAsync(broker.url);
  t.after(() => sub.endAsync());
  const got: string[] = [];
  sub.on('message', (_topic, payload) => got.push(payload.toString()));
  await sub.subscribeAsync('out/#', { qos: 1 });
  // The outbox retries with backoff (5 s after the first failure); the message arrives once the broker is back.
  await waitFor(() => got.length >= 1, 'the action after the outage', 40_000);
  assert.equal(got[0], 'while down');
});

test('two machines and no broker: the desktop runs an embedded broker and the agent forwards straight to it', async (t) => {
  const root = tempDir(t);
  const port = await freePort();
  writeConfig(path.join(root, 'desktop'), { forwarding: { embeddedBroker: { enabled: true, port, host: '127.0.0.1' } } });
  writeConfig(path.join(root, 'agent'), { forwarding: { forward: { url: `mqtt://127.0.0.1:${port}`, agentId: 'pi' } } });
  const desktop = await Engine.open({ dataDir: path.join(root, 'desktop'), log: silentLogger, startMonitors: false, agentId: 'desktop' });
  t.after(() => desktop.close());
  const agent = await Engine.open({ dataDir: path.join(root, 'agent'), log: silentLogger, startMonitors: false, agentId: 'pi' });
  t.after(() => agent.close());
  await waitFor(() => desktop.store.events.count({ type: 'agent.online' }) === 1, 'agent.online', 15_000);
  for (let i = 0; i < 50; i++) await agent.emit('test:gen', { type: 'test.tick', title: `tick ${i}` });
  await waitFor(() => desktop.store.events.count({ type: 'test.tick' }) === 50, '50 events', 15_000);
  assert.deepEqual(
    logOf(desktop.store, (e) => e.type === 'test.tick').map((e) => e.title),
    Array.from({ length: 50 }, (_, i) => `tick ${i}`),
  );
  await agent.close();
  await waitFor(() => desktop.store.events.count({ type: 'agent.offline' }) === 1, 'agent.offline after the agent stopped', 15_000);
});
