// Two Panoptes engines in one process (separate data folders) and a real Mosquitto: the agent forwards, the
// desktop receives. Events are produced through the agent's own durable path (engine.emit), as a monitor would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectAsync } from 'mqtt';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { newId } from '../../core/ids.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { mosquittoAvailable, startMosquitto } from '../helpers/mosquitto.js';
import { AGENT, figures, logOf, pair, printFigures, writeConfig } from './helpers.js';
import path from 'node:path';

const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';
const fromAgent = (e: { origin?: { agentId: string }; type: string }) => e.origin?.agentId === AGENT && e.type === 'test.tick';
const ticks = (e: { type: string }) => e.type === 'test.tick';

async function emitTicks(engine: Engine, from: number, to: number, chunk = 25): Promise<void> {
  for (let i = from; i < to; i += chunk) {
    const batch = [];
    for (let n = i; n < Math.min(to, i + chunk); n++) batch.push(engine.emit('test:gen', { type: 'test.tick', title: `tick ${n}`, fields: { n } }));
    await Promise.all(batch);
  }
}

test('1,000 events from the agent reach the desktop in order, with their origin', { skip }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.close());
  const { agent, desktop } = await pair(t, broker);

  await emitTicks(agent, 0, 1_000);
  await waitFor(() => desktop.store.events.count({ type: 'test.tick' }) >= 1_000, '1,000 events at the desktop', 60_000);

  const sent = logOf(agent.store, ticks);
  const received = logOf(desktop.store, fromAgent);
  const f = figures(sent.map((e) => e.id), received.map((e) => e.id));
  printFigures('steady stream', f);
  assert.deepEqual(f, { sent: 1_000, received: 1_000, lost: 0, duplicated: 0, reordered: 0 });
  // The same event, with the agent's id, time, source and fields, and where it came from.
  const a = sent[500]!;
  const d = desktop.store.events.get(a.id)!;
  assert.equal(d.title, 'tick 500');
  assert.equal(d.source, 'test:gen');
  assert.equal(d.ts, a.ts);
  assert.deepEqual(d.fields, { n: 500 });
  assert.equal(d.origin?.agentId, AGENT);
  assert.ok(d.origin?.hostname);
  // Events the desktop took in are searchable like its own.
  assert.equal(desktop.store.events.list({ search: 'tick 777', type: 'test.tick' }).events.some((e) => e.id === sent[777]!.id), true);
});

test('the broker stopped mid-stream and restarted: nothing lost, nothing doubled, order kept', { skip }, async (t) => {
  const broker = await startMosquitto({ persistence: true });
  t.after(() => broker.close());
  const { agent, desktop } = await pair(t, broker);

  const emitting = emitTicks(agent, 0, 700, 10);
  await waitFor(() => desktop.store.events.count({ type: 'test.tick' }) >= 150, 'the stream to start', 30_000, 2);
  await broker.stop(); // mid-stream: the agent keeps producing, part of its log is unsent
  const atStop = desktop.store.events.count({ type: 'test.tick' });
  await emitting; // the rest waits in the agent's log
  assert.ok(atStop < 700, `the broker stopped mid-stream (${atStop} of 700 had arrived)`);
  await new Promise((r) => setTimeout(r, 1_500));
  assert.ok(desktop.store.events.count({ type: 'test.tick' }) < 700, 'nothing can arrive while the broker is down');
  await broker.start();
  await emitTicks(agent, 700, 1_000);
  await waitFor(() => desktop.store.events.count({ type: 'test.tick' }) >= 1_000, 'all 1,000 after the broker is back', 60_000);
  await new Promise((r) => setTimeout(r, 500)); // a late duplicate would show up now

  const f = figures(logOf(agent.store, ticks).map((e) => e.id), logOf(desktop.store, fromAgent).map((e) => e.id));
  printFigures('broker restarted mid-stream', f, `${atStop} had arrived when it stopped`);
  assert.deepEqual(f, { sent: 1_000, received: 1_000, lost: 0, duplicated: 0, reordered: 0 });
});

test('a broker restart is not announced as the agent going offline (a lost connection must last to count)', { skip }, async (t) => {
  const broker = await startMosquitto({ persistence: true });
  t.after(() => broker.close());
  const { agent, desktop } = await pair(t, broker);
  await broker.stop();
  await new Promise((r) => setTimeout(r, 1_000));
  await broker.start();
  // Both sides reconnect and the agent's events flow again.
  await emitTicks(agent, 0, 5);
  await waitFor(() => desktop.store.events.count({ type: 'test.tick' }) >= 5, 'ticks after the restart', 60_000);
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal(desktop.store.events.count({ type: 'agent.offline' }), 0, 'no offline event for a moment without the broker');
});

test('events that came from another machine are not forwarded again, and the filter keeps the rest at the source', { skip }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.close());
  const { agent, desktop } = await pair(t, broker, { filter: { when: { type: 'test.*' }, if: { field: 'fields.n', lt: 5 } } });

  await agent.ingest({ id: newId(), ts: new Date().toISOString(), receivedAt: new Date().toISOString(), source: 'rss:x', type: 'test.tick', title: 'relayed', body: '', url: null, fields: { n: 1 }, tags: [], origin: { agentId: 'elsewhere', hostname: 'far' } });
  await emitTicks(agent, 0, 10);
  await agent.emit('test:gen', { type: 'other.kind', fields: { n: 0 } });
  await agent.emit('test:gen', { type: 'test.tick', title: 'last', fields: { n: 0 } });
  await waitFor(() => desktop.store.events.list({ type: 'test.tick', search: 'last' }).events.length === 1, 'the last event', 15_000);

  const got = logOf(desktop.store, fromAgent).map((e) => e.title);
  assert.deepEqual(got, ['tick 0', 'tick 1', 'tick 2', 'tick 3', 'tick 4', 'last']);
  assert.equal(desktop.store.events.count({ type: 'other.kind' }), 0);
  assert.equal(logOf(desktop.store, (e) => e.title === 'relayed').length, 0, 'a relayed event is not sent on');
});

test('a bad forwarding filter turns forwarding off with the reason, and the events wait in the log', { skip }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.close());
  const root = tempDir(t);
  const lines: string[] = [];
  const log = { ...silentLogger, error: (m: string) => void lines.push(m), child: () => log };
  writeConfig(root, { forwarding: { forward: { url: broker.url, agentId: AGENT, filter: { if: { field: 'title', matches: '(a)\\1' } } } } });
  const agent = await Engine.open({ dataDir: root, log, startMonitors: false });
  t.after(() => agent.close());
  assert.match(lines.join('\n'), /forwarding is off until the filter is fixed: \$\.if\.matches: /);
});

test('received messages that are not Panoptes events are dropped, and do not block the ones behind them', { skip }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.close());
  const { agent, desktop } = await pair(t, broker);
  const intruder = await connectAsync(broker.url);
  t.after(() => intruder.endAsync());
  await intruder.publishAsync(`panoptes/${AGENT}/events`, 'not json', { qos: 1 });
  await intruder.publishAsync(`panoptes/${AGENT}/events`, JSON.stringify({ id: 'x', type: 'bad' }), { qos: 1 });
  await intruder.publishAsync(`panoptes/${AGENT}/events`, JSON.stringify({ id: newId(), ts: 'yesterday', source: 'a:b', type: 'no-namespace' }), { qos: 1 });
  await emitTicks(agent, 0, 3);
  await waitFor(() => desktop.store.events.count({ type: 'test.tick' }) === 3, 'the good events', 15_000);
  assert.equal(desktop.store.events.count({}), desktop.store.events.count({ type: ['test.tick', 'agent.online'] }));
});

test('broker passwords written into the config are moved to the secret store, and used from there', { skip }, async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { chownSync, readFileSync } = await import('node:fs');
  const pwDir = tempDir(t, 'panoptes-mqpw-');
  const pwfile = path.join(pwDir, 'passwd');
  execFileSync('/usr/bin/mosquitto_passwd', ['-b', '-c', pwfile, 'fwd', 's3cret']);
  if (process.getuid?.() === 0) for (const p of [pwDir, pwfile]) chownSync(p, 65534, 65534);
  const broker = await startMosquitto({ extraConfig: ['allow_anonymous false', `password_file ${pwfile}`] });
  t.after(() => broker.close());
  const root = tempDir(t);
  const withPassword = `mqtt://fwd:s3cret@127.0.0.1:${broker.port}`;
  writeConfig(path.join(root, 'agent'), { forwarding: { forward: { url: withPassword, agentId: AGENT } } });
  writeConfig(path.join(root, 'desktop'), { forwarding: { subscribe: [{ url: withPassword }] } });
  const desktop = await Engine.open({ dataDir: path.join(root, 'desktop'), log: silentLogger, startMonitors: false, agentId: 'desktop' });
  t.after(() => desktop.close());
  const agent = await Engine.open({ dataDir: path.join(root, 'agent'), log: silentLogger, startMonitors: false });
  t.after(() => agent.close());

  for (const [engine, dir] of [[agent, 'agent'], [desktop, 'desktop']] as const) {
    assert.doesNotMatch(readFileSync(path.join(root, dir, 'config.json'), 'utf8'), /s3cret/);
    assert.deepEqual(Object.values(engine.secrets.get('forwarding')), ['s3cret']);
  }
  assert.equal(agent.config.current.forwarding?.forward?.url, `mqtt://fwd@127.0.0.1:${broker.port}`);
  await agent.emit('test:gen', { type: 'test.tick', title: 'authenticated' });
  await waitFor(() => desktop.store.events.count({ type: 'test.tick' }) === 1, 'the event through the password-protected broker', 15_000);
});
