// The mqtt monitor in the real engine (monitor host, store) against a real Mosquitto on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync } from 'node:fs';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import mqttMonitor, { decodePayload } from '../../monitors/mqtt/index.js';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { dryRunMonitor, parseMonitorConfig, secretFields } from '../../core/monitor-host.js';
import { MemorySecretStore } from '../../core/secrets.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { mosquittoAvailable, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { writeConfig } from '../forwarding/helpers.js';

const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';
const definitions = new Map([['mqtt', mqttMonitor]]);

async function engineWith(t: { after(fn: () => unknown): void }, dir: string, config: Record<string, unknown>, secrets = new MemorySecretStore()) {
  writeConfig(dir, { monitors: [{ id: 'mqtt:home', type: 'mqtt', name: 'Home', config }] });
  const engine = await Engine.open({ dataDir: dir, log: silentLogger, definitions, secrets });
  t.after(() => engine.close());
  return engine;
}

async function publisher(t: { after(fn: () => unknown): void }, broker: Mosquitto, opts = {}) {
  const c = await connectAsync(broker.url, opts);
  t.after(() => c.endAsync());
  return c;
}

test('messages on subscribed topics become mqtt.message events: JSON parsed, text kept, binary as base64, wildcards honoured', { skip }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.close());
  const engine = await engineWith(t, tempDir(t), { url: broker.url, topics: ['home/+/temperature', 'zigbee/#'], qos: 1 });
  await waitFor(() => engine.healthOf('mqtt:home').status === 'ok', 'the monitor to subscribe', 15_000);

  const pub = await publisher(t, broker);
  await pub.publishAsync('home/kitchen/temperature', JSON.stringify({ value: 21.5, unit: 'C' }), { qos: 1 });
  await pub.publishAsync('home/kitchen/humidity', '40', { qos: 1 }); // not subscribed
  await pub.publishAsync('zigbee/door/contact', 'open', { qos: 0 });
  await pub.publishAsync('zigbee/raw', Buffer.from([0xff, 0x00, 0xfe]), { qos: 1 });
  await pub.publishAsync('home/hall/temperature', '19', { qos: 1 });
  await waitFor(() => engine.store.events.count({ type: 'mqtt.message' }) === 4, 'four events', 15_000);
  await new Promise((r) => setTimeout(r, 200));

  const events = engine.store.events.list({ type: 'mqtt.message', order: 'asc' }).events;
  assert.deepEqual(events.map((e) => e.fields.topic), ['home/kitchen/temperature', 'zigbee/door/contact', 'zigbee/raw', 'home/hall/temperature']);
  const [kitchen, door, raw, hall] = events;
  assert.equal(kitchen!.source, 'mqtt:home');
  assert.equal(kitchen!.title, 'home/kitchen/temperature');
  assert.deepEqual(kitchen!.fields.payload, { value: 21.5, unit: 'C' });
  assert.equal(kitchen!.fields.qos, 1);
  assert.equal(kitchen!.fields.retained, false);
  assert.equal(door!.fields.payload, 'open');
  assert.equal(door!.fields.encoding, 'text');
  assert.equal(raw!.fields.payload, Buffer.from([0xff, 0x00, 0xfe]).toString('base64'));
  assert.equal(raw!.fields.encoding, 'base64');
  assert.equal(hall!.fields.payload, 19);
});

test('a rule can test values inside a JSON payload', { skip }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.close());
  const dir = tempDir(t);
  writeConfig(dir, {
    monitors: [{ id: 'mqtt:home', type: 'mqtt', name: 'Home', config: { url: broker.url, topics: ['sensors/#'], qos: 1 } }],
    rules: [{ id: 'hot', when: { type: 'mqtt.message' }, if: { field: 'fields.payload.temperature', gt: 30 }, then: [{ tag: { add: ['hot'] } }] }],
  });
  const engine = await Engine.open({ dataDir: dir, log: silentLogger, definitions, secrets: new MemorySecretStore() });
  t.after(() => engine.close());
  await waitFor(() => engine.healthOf('mqtt:home').status === 'ok', 'the monitor to subscribe', 15_000);
  const pub = await publisher(t, broker);
  await pub.publishAsync('sensors/attic', JSON.stringify({ temperature: 35 }), { qos: 1 });
  await pub.publishAsync('sensors/cellar', JSON.stringify({ temperature: 12 }), { qos: 1 });
  await waitFor(() => engine.store.events.count({ tag: 'hot' }) === 1 && engine.processor.lag() === 0 && engine.store.events.count({ type: 'mqtt.message' }) === 2, 'the rule to run', 15_000);
  assert.deepEqual(engine.store.events.list({ tag: 'hot' }).events.map((e) => e.fields.topic), ['sensors/attic']);
});

test('retained messages: emitted once, not again on restart while unchanged, again when changed; dry run shows them all', { skip }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.close());
  const pub = await publisher(t, broker);
  await pub.publishAsync('state/light', 'on', { qos: 1, retain: true });
  await pub.publishAsync('state/heating', JSON.stringify({ mode: 'eco' }), { qos: 1, retain: true });
  const dir = tempDir(t);
  const config = { url: broker.url, topics: ['state/#'], qos: 1 };

  const preview = await dryRunMonitor(mqttMonitor, config);
  assert.deepEqual(preview.map((e) => e.fields.topic).sort(), ['state/heating', 'state/light']);
  assert.ok(preview.every((e) => e.fields.retained === true));

  let engine = await engineWith(t, dir, config);
  await waitFor(() => engine.store.events.count({ type: 'mqtt.message' }) === 2, 'the two retained messages', 15_000);
  await engine.close();

  await pub.publishAsync('state/light', 'off', { qos: 1, retain: true });
  engine = await engineWith(t, dir, config);
  await waitFor(() => engine.healthOf('mqtt:home').status === 'ok', 'resubscribed', 15_000);
  await pub.publishAsync('state/other', 'live', { qos: 1 });
  await waitFor(() => engine.store.events.list({ type: 'mqtt.message', search: 'live' }).events.length === 1, 'a live message after the retained ones', 15_000);
  const all = engine.store.events.list({ type: 'mqtt.message', order: 'asc' }).events.map((e) => `${e.fields.topic}=${JSON.stringify(e.fields.payload)}`);
  assert.deepEqual(all.slice(0, 2).sort(), ['state/heating={"mode":"eco"}', 'state/light="on"']);
  assert.deepEqual(all.slice(2), ['state/light="off"', 'state/other="live"'], 'the unchanged heating state is not emitted again');
});

test('a password-protected broker: the password comes from the secret store; a wrong one is a clear failure', { skip }, async (t) => {
  const dir = tempDir(t);
  const pwfile = path.join(dir, 'passwd');
  execFileSync('/usr/bin/mosquitto_passwd', ['-b', '-c', pwfile, 'homeassistant', 'c0rrect-h0rse']);
  chmodSync(pwfile, 0o600);
  if (process.getuid?.() === 0) {
    chownSync(dir, 65534, 65534);
    chownSync(pwfile, 65534, 65534);
  }
  const broker = await startMosquitto({ extraConfig: ['allow_anonymous false', `password_file ${pwfile}`].map((l) => l) });
  t.after(() => broker.close());

  assert.deepEqual(secretFields(mqttMonitor), ['password']);
  const config = { url: broker.url, topics: ['a/#'], username: 'homeassistant' };
  await assert.rejects(dryRunMonitor(mqttMonitor, config, { password: 'wrong' }), /refused|Not authorized|Bad user name/i);
  const events = await dryRunMonitor(mqttMonitor, config, { password: 'c0rrect-h0rse' });
  assert.deepEqual(events, []);

  const secrets = new MemorySecretStore();
  secrets.set('mqtt:home', { password: 'c0rrect-h0rse' });
  const engine = await engineWith(t, path.join(dir, 'data'), config, secrets);
  await waitFor(() => engine.healthOf('mqtt:home').status === 'ok', 'the monitor to log in', 15_000);
  const pub = await publisher(t, broker, { username: 'homeassistant', password: 'c0rrect-h0rse' });
  await pub.publishAsync('a/b', 'hello', { qos: 1 });
  await waitFor(() => engine.store.events.count({ type: 'mqtt.message' }) === 1, 'the message', 15_000);
  assert.doesNotMatch(JSON.stringify(engine.config.current), /c0rrect/);
});

test('the broker going away is health, and the monitor comes back on its own', { skip }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.close());
  const engine = await engineWith(t, tempDir(t), { url: broker.url, topics: ['x/#'], qos: 1 });
  await waitFor(() => engine.healthOf('mqtt:home').status === 'ok', 'subscribed', 15_000);
  await broker.stop();
  await waitFor(() => engine.healthOf('mqtt:home').status === 'failing', 'failing health', 15_000);
  assert.match(engine.healthOf('mqtt:home').lastError ?? '', /lost|refused/);
  await broker.start();
  await waitFor(() => engine.healthOf('mqtt:home').status === 'ok', 'ok again', 20_000);
  const pub = await publisher(t, broker);
  await pub.publishAsync('x/y', 'back', { qos: 1 });
  await waitFor(() => engine.store.events.count({ type: 'mqtt.message' }) === 1, 'a message after the outage', 15_000);
});

test('config: bad topics, a password in the address and an unreachable broker get clear messages', async () => {
  assert.throws(() => parseMonitorConfig(mqttMonitor, { url: 'mqtt://h', topics: ['a/#/b'] }), /"#" must be a whole level at the end/);
  assert.throws(() => parseMonitorConfig(mqttMonitor, { url: 'mqtt://h', topics: ['a/b+'] }), /"\+" must be a whole level/);
  assert.throws(() => parseMonitorConfig(mqttMonitor, { url: 'mqtt://u:p@h', topics: ['a'] }), /Password field/);
  assert.throws(() => parseMonitorConfig(mqttMonitor, { url: 'http://h', topics: ['a'] }), /must start with mqtt:\/\//);
  assert.throws(() => parseMonitorConfig(mqttMonitor, { url: 'mqtt://h', topics: [] }), /at least one topic/);
  assert.throws(() => parseMonitorConfig(mqttMonitor, { url: 'mqtt://h', topics: ['a'], persistentSession: true }), /needs a client id/);
  const port = await (await import('../helpers/ports.js')).closedPort();
  await assert.rejects(dryRunMonitor(mqttMonitor, { url: `mqtt://127.0.0.1:${port}`, topics: ['a'] }), /connection refused/);
});

test('payload decoding: JSON only when it parses, cut payloads stay text', () => {
  assert.deepEqual(decodePayload(Buffer.from('{"a":1}'), true, 1000).payload, { a: 1 });
  assert.equal(decodePayload(Buffer.from('{"a":1}'), false, 1000).payload, '{"a":1}');
  assert.equal(decodePayload(Buffer.from('{not json'), true, 1000).payload, '{not json');
  assert.equal(decodePayload(Buffer.from('12abc'), true, 1000).payload, '12abc');
  const cut = decodePayload(Buffer.from('{"a":"' + 'x'.repeat(100) + '"}'), true, 10);
  assert.equal(cut.truncated, true);
  assert.equal(cut.encoding, 'text');
  assert.equal(cut.text, '{"a":"xxxx');
  const e = decodePayload(Buffer.from('é'.repeat(10)), true, 5); // cut inside a two-byte character
  assert.equal(e.encoding, 'text');
});

test('MQTT 5: a message repeating an idempotency key already taken in is dropped, also after a restart; without a key every message counts', { skip }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.close());
  const dir = tempDir(t);
  const config = { url: broker.url, topics: ['actions/#'], qos: 1 };
  let engine = await engineWith(t, dir, config);
  await waitFor(() => engine.healthOf('mqtt:home').status === 'ok', 'the monitor to subscribe', 15_000);

  // What a Panoptes mqtt action sends (monitors/mqtt/action.ts), and its repeat after a crash before the outbox knew it was sent.
  const pub = await publisher(t, broker, { protocolVersion: 5 });
  const keyed = (key: string) => ({ qos: 1 as const, properties: { userProperties: { 'idempotency-key': key } } });
  await pub.publishAsync('actions/light', 'on', keyed('rule-a:ev1:0'));
  await pub.publishAsync('actions/light', 'on', keyed('rule-a:ev1:0'));
  await pub.publishAsync('actions/light', 'off', keyed('rule-a:ev2:0'));
  await pub.publishAsync('actions/plain', 'same', { qos: 1 });
  await pub.publishAsync('actions/plain', 'same', { qos: 1 });
  await pub.publishAsync('actions/done', 'marker', { qos: 1 });
  await waitFor(() => engine.store.events.list({ type: 'mqtt.message', search: 'marker' }).events.length === 1, 'the marker', 15_000);
  let events = engine.store.events.list({ type: 'mqtt.message', order: 'asc' }).events;
  assert.deepEqual(events.map((e) => `${e.fields.topic}=${e.fields.payload}`), ['actions/light=on', 'actions/light=off', 'actions/plain=same', 'actions/plain=same', 'actions/done=marker']);
  assert.deepEqual(events.map((e) => e.fields.idempotencyKey), ['rule-a:ev1:0', 'rule-a:ev2:0', null, null, null]);

  // The keys are kept with the events: a repeat after a restart is dropped too.
  await engine.close();
  engine = await engineWith(t, dir, config);
  await waitFor(() => engine.healthOf('mqtt:home').status === 'ok', 'resubscribed', 15_000);
  await pub.publishAsync('actions/light', 'off', keyed('rule-a:ev2:0'));
  await pub.publishAsync('actions/done', 'marker 2', { qos: 1 });
  await waitFor(() => engine.store.events.list({ type: 'mqtt.message', search: '"marker 2"' }).events.length === 1, 'the second marker', 15_000);
  events = engine.store.events.list({ type: 'mqtt.message', order: 'asc' }).events;
  assert.equal(events.filter((e) => e.fields.idempotencyKey === 'rule-a:ev2:0').length, 1);
});
