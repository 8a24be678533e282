// The agent as a real child process (`panoptes agent --forward …`), killed with SIGKILL mid-stream and started
// again; the desktop is an engine in the test process; the broker is a real Mosquitto. Events appear in the
// agent's log the way another writer's would: appended to its store from the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { newId } from '../../core/ids.js';
import { openStore, type Store } from '../../core/store/index.js';
import { connectAsync } from 'mqtt';
import type { PanoptesEvent } from '../../core/event.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { startAgent, type RunningAgent } from '../helpers/agent-process.js';
import { mosquittoAvailable, startMosquitto } from '../helpers/mosquitto.js';
import { figures, logOf, printFigures, writeConfig } from './helpers.js';

const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';
const AGENT = 'server1';

function tick(n: number): PanoptesEvent {
  const now = new Date().toISOString();
  return { id: newId(), ts: now, receivedAt: now, source: 'log:app', type: 'test.tick', title: `tick ${n}`, body: '', url: null, fields: { n }, tags: [] };
}

/** Appends ticks `from`..`to` in chunks; with `pause`, stops before tick `pause.at` until `pause.until` settles. */
async function write(store: Store, from: number, to: number, chunk = 20, pause?: { at: number; until: Promise<void> }): Promise<void> {
  for (let i = from; i < to; i += chunk) {
    if (pause && i === pause.at) await pause.until;
    const batch = [];
    for (let n = i; n < Math.min(to, i + chunk); n++) batch.push(tick(n));
    store.events.append(batch);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('the agent killed with SIGKILL mid-stream and restarted: nothing lost, nothing doubled, order kept; the desktop hears it go offline and come back', { skip, timeout: 180_000 }, async (t) => {
  const broker = await startMosquitto({ persistence: true });
  t.after(() => broker.close());
  const root = tempDir(t, 'panoptes-fwd-proc-');
  const agentDir = path.join(root, 'agent');
  const desktopDir = path.join(root, 'desktop');
  writeConfig(desktopDir, { forwarding: { subscribe: [{ url: broker.url }] } });
  writeConfig(agentDir, {});
  const desktop = await Engine.open({ dataDir: desktopDir, log: silentLogger, startMonitors: false, agentId: 'desktop' });
  t.after(() => desktop.close());
  const agentEvents = (type: string) => desktop.store.events.list({ type, limit: 1000 }).events.filter((e) => e.fields.agentId === AGENT);
  const args = ['--forward', broker.url, '--agent-id', AGENT];

  let agent: RunningAgent = await startAgent(agentDir, args);
  t.after(() => agent.stop());
  await waitFor(() => agentEvents('agent.online').length === 1, 'agent.online at the desktop', 20_000);
  const store = openStore(agentDir);
  t.after(() => store.close());

  // An observer on the broker counts what goes over the wire, re-sends included.
  const observer = await connectAsync(broker.url);
  t.after(() => observer.endAsync());
  let onWire = 0;
  observer.on('message', () => onWire++);
  await observer.subscribeAsync(`panoptes/${AGENT}/events`, { qos: 1 });

  // The writer holds back the last 300 ticks until the agent is dead, so the kill always leaves part of the log
  // unsent (on a fast run the agent used to have forwarded all 700 before the kill landed).
  let killed!: () => void;
  const dead = new Promise<void>((r) => (killed = r));
  const writing = write(store, 0, 700, 20, { at: 400, until: dead });
  await waitFor(() => desktop.store.events.count({ type: 'test.tick' }) >= 150, 'the stream to start', 30_000, 2);
  agent.child.kill('SIGKILL'); // mid-stream: the writer keeps appending, part of the log is unsent
  await new Promise<void>((r) => (agent.child.exitCode !== null || agent.child.signalCode !== null ? r() : agent.child.once('exit', () => r())));
  const atKill = desktop.store.events.count({ type: 'test.tick' });
  killed();
  await writing; // the agent is dead: the rest waits in its log
  assert.ok(atKill < 700, `the kill came mid-stream (${atKill} of 700 had arrived)`);

  // The broker publishes the agent's last will: the desktop learns it is gone.
  await waitFor(() => agentEvents('agent.offline').length === 1, 'agent.offline after SIGKILL', 60_000);
  const offline = agentEvents('agent.offline')[0]!;
  assert.equal(offline.fields.reason, 'connection lost');
  assert.equal(offline.source, 'panoptes');

  agent = await startAgent(agentDir, args);
  await write(store, 700, 1_000);
  await waitFor(() => desktop.store.events.count({ type: 'test.tick' }) >= 1_000, 'all 1,000 after the restart', 60_000);
  await waitFor(() => agentEvents('agent.online').length === 2, 'agent.online after the restart', 20_000);
  await new Promise((r) => setTimeout(r, 500)); // a late duplicate would show up now

  const sent = logOf(store, (e) => e.type === 'test.tick').map((e) => e.id);
  const received = logOf(desktop.store, (e) => e.type === 'test.tick' && e.origin?.agentId === AGENT).map((e) => e.id);
  const f = figures(sent, received);
  printFigures('agent SIGKILLed mid-stream and restarted', f, `${atKill} had arrived when it was killed; ${onWire} messages on the wire (${onWire - 1_000} sent again after the restart, dropped by id)`);
  assert.deepEqual(f, { sent: 1_000, received: 1_000, lost: 0, duplicated: 0, reordered: 0 });

  // A clean stop says goodbye itself (no will needed), and the desktop hears that too.
  await agent.stop();
  await waitFor(() => agentEvents('agent.offline').length === 2, 'agent.offline after a clean stop', 20_000);
  assert.equal(agentEvents('agent.offline')[0]!.fields.reason, 'stopped'); // newest first
});
