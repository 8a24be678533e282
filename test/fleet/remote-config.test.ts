// Remote configuration for real: a desktop engine in this process, two agents as `panoptes agent` child processes
// forwarding to a real Mosquitto, each paired with the desktop's key the way `panoptes deploy` pairs them. The
// desktop edits one while it is online (applied, acknowledged), the other while it is stopped (applied when it is
// back, once), and messages that are not the desktop's own current changes are refused with the reason said back:
// signed by another key, replayed, signed for another agent, prepared from a configuration that changed there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { loadOrCreateIdentity } from '../../engine/fleet/identity.js';
import { configSetTopic, configStateTopic, decodeConfigState, signChange, type ConfigChange, type ConfigState } from '../../engine/fleet/wire.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { startAgent, type RunningAgent } from '../helpers/agent-process.js';
import { mosquittoAvailable, startMosquitto } from '../helpers/mosquitto.js';
import { pairAgent } from './helpers.js';
import { writeConfig } from '../forwarding/helpers.js';

const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';

const configOf = (dir: string) => {
  const d = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as { monitors?: { id: string; name: string; config: Record<string, unknown> }[]; rules?: { id: string }[] };
  return { ...d, monitors: d.monitors ?? [], rules: d.rules ?? [] };
};

test('remote configuration: edits applied online and after an absence (once); forged, replayed, misaddressed and stale changes refused with the reason', { skip, timeout: 280_000 }, async (t) => {
  const broker = await startMosquitto({ persistence: true });
  t.after(() => broker.close());
  const root = tempDir(t, 'panoptes-fleet-');
  const desktopDir = path.join(root, 'desktop');
  writeConfig(desktopDir, { forwarding: { subscribe: [{ url: broker.url }] } });
  const identity = loadOrCreateIdentity(desktopDir);
  assert.equal(statSync(path.join(desktopDir, 'fleet-key')).mode & 0o777, 0o600);
  const logFile = path.join(root, 'app.log');
  writeFileSync(logFile, '');

  const agents: Record<string, { dir: string; proc: RunningAgent | null }> = {};
  const start = async (id: string) => {
    agents[id]!.proc = await startAgent(agents[id]!.dir, ['--forward', broker.url, '--agent-id', id]);
  };
  for (const id of ['a1', 'a2']) {
    const dir = path.join(root, id);
    // Paired as deploy pairs it: the desktop's key and a pairing id there, the agent's key recorded here.
    pairAgent({ dir: desktopDir, publicKey: identity.publicKey }, dir, id);
    agents[id] = { dir, proc: null };
    t.after(() => agents[id]!.proc?.stop());
  }
  await Promise.all(['a1', 'a2'].map(start));

  const desktop = await Engine.open({ dataDir: desktopDir, log: silentLogger, startMonitors: false, agentId: 'desktop' });
  t.after(() => desktop.close());

  // An observer keeps every state the agents publish, and every change message on the wire (to replay one later).
  const observer = await connectAsync(broker.url);
  t.after(() => observer.endAsync());
  const states: Record<string, ConfigState[]> = { a1: [], a2: [] };
  const onWire: Record<string, Buffer[]> = { a1: [], a2: [] };
  observer.on('message', (topic, payload) => {
    const id = topic.split('/')[1]!;
    if (topic.endsWith('/config/state')) {
      const s = decodeConfigState(payload, id);
      if (s) states[id]?.push(s);
    } else if (payload.length) onWire[id]?.push(Buffer.from(payload));
  });
  await observer.subscribeAsync(['panoptes/+/config/state', 'panoptes/+/config/set'], { qos: 1 });
  const latest = (id: string) => states[id]![states[id]!.length - 1];

  const list = await waitFor(async () => {
    const l = await desktop.request('fleet.list', {});
    return l.machines.length === 2 && l.machines.every((m) => m.paired) ? l : null;
  }, 'both agents paired with the desktop', 60_000);
  assert.equal(list.keyId, identity.keyId);

  // --- edit while online: applied and acknowledged ---
  const v0 = await desktop.request('fleet.get', { agentId: 'a1' });
  assert.deepEqual(v0.monitors, []);
  const sent = await desktop.request('fleet.saveMonitor', { agentId: 'a1', monitor: { type: 'log', name: 'App log', config: { path: logFile } }, ifRevision: v0.revision });
  assert.equal(sent.monitors.length, 1);
  const applied1 = await waitFor(async () => {
    const v = await desktop.request('fleet.get', { agentId: 'a1' });
    return v.pending === null && v.last?.outcome === 'applied' ? v : null;
  }, 'a1 to apply the change', 30_000);
  assert.equal(applied1.agentRevision, v0.agentRevision + 1);
  assert.deepEqual(configOf(agents.a1!.dir).monitors.map((m) => m.name), ['App log']);
  // The monitor runs there: its health reaches the desktop in a1's inventory.
  await waitFor(() => desktop.forwarding.peers.list().find((p) => p.agentId === 'a1')?.monitors?.some((m) => m.name === 'App log'), 'a1 to report the new monitor', 30_000);

  // A change prepared from a view that moved on is refused at the desktop, nothing sent.
  await assert.rejects(desktop.request('fleet.removeMonitor', { agentId: 'a1', id: applied1.monitors[0]!.id as string, ifRevision: v0.revision }), (err: Error & { code?: string }) => err.code === 'conflict' && /changed since/.test(err.message));
  // A secret is never sent over the broker.
  await assert.rejects(desktop.request('fleet.saveMonitor', { agentId: 'a1', monitor: { type: 'mail', name: 'Mail', config: { host: 'mail.example', username: 'me', password: 'hunter2' } } }), /cannot be sent/);

  // --- edit while offline: the latest applied when it is back, once ---
  await agents.a2!.proc!.stop();
  await waitFor(() => desktop.forwarding.peers.list().find((p) => p.agentId === 'a2')?.state === 'offline', 'a2 offline at the desktop', 30_000);
  const before2 = await desktop.request('fleet.get', { agentId: 'a2' });
  const p1 = await desktop.request('fleet.saveMonitor', { agentId: 'a2', monitor: { id: 'log:app', type: 'log', name: 'App log', config: { path: logFile } }, ifRevision: before2.revision });
  assert.ok(p1.pending, 'the change waits for a2');
  const rule = { id: 'app-errors', when: { source: 'log:app' }, if: { field: 'title', contains: 'ERROR' }, then: [{ notify: { title: '{{ title }}' } }] };
  const p2 = await desktop.request('fleet.saveRule', { agentId: 'a2', rule, ifRevision: p1.revision });
  assert.equal(p2.pending!.seq, p1.pending!.seq + 1);
  assert.equal(p2.monitors.length, 1, 'the second edit builds on the first');
  assert.equal(configOf(agents.a2!.dir).monitors.length, 0, 'nothing reached a2 while it was stopped');
  await start('a2');
  const back = await waitFor(async () => {
    const v = await desktop.request('fleet.get', { agentId: 'a2' });
    return v.pending === null && v.last?.outcome === 'applied' ? v : null;
  }, 'a2 to apply the change on its return', 60_000);
  assert.equal(back.last!.seq, p2.pending!.seq);
  assert.equal(back.agentRevision, before2.agentRevision + 1, 'applied once: one new revision');
  assert.deepEqual(configOf(agents.a2!.dir).monitors.map((m) => m.id), ['log:app']);
  assert.deepEqual(configOf(agents.a2!.dir).rules.map((r) => r.id), ['app-errors']);
  // Started again, it gets the same retained change again and leaves it be.
  await agents.a2!.proc!.stop();
  await start('a2');
  const again = await waitFor(() => {
    const s = latest('a2');
    return s && Date.parse(s.at) > Date.parse(back.last!.at) && s.rev === back.agentRevision ? s : null;
  }, 'a2 to publish its state after a second restart', 60_000);
  assert.equal(again.last!.seq, back.last!.seq);
  assert.equal(again.last!.outcome, 'applied');

  // --- what is refused, with the reason said back ---
  const refusal = async (payload: string | Buffer, what: string) => {
    const n = states.a1!.length;
    await observer.publishAsync(configSetTopic('a1'), payload, { qos: 1, retain: true });
    return waitFor(() => states.a1!.slice(n).find((s) => s.last?.outcome === 'refused'), what, 30_000);
  };
  const a1 = latest('a1')!;
  const genuine = (over: Partial<ConfigChange>): ConfigChange => ({ v: 1, agentId: 'a1', pairing: a1.pairing, seq: latest('a1')!.seenSeq + 1, base: latest('a1')!.rev, issuedAt: new Date().toISOString(), monitors: [], rules: [], ...over });

  // Signed by another desktop's key.
  const other = generateKeyPairSync('ed25519').privateKey;
  const forged = await refusal(signChange(genuine({ seq: 1_000 }), other), 'a forged change refused');
  assert.match(forged.last!.reason!, /signature is not from the desktop this agent is paired with/);
  // Not signed at all.
  assert.match((await refusal(JSON.stringify(genuine({})), 'an unsigned change refused')).last!.reason!, /not a signed configuration message/);
  // Signed by the desktop for the other agent (replayed onto this one's topic).
  const misaddressed = await refusal(signChange(genuine({ agentId: 'a2' }), identity.privateKey), 'a change for a2 refused by a1');
  assert.match(misaddressed.last!.reason!, /signed for agent a2, not for a1/);
  // Signed for an earlier deployment of this agent.
  assert.match((await refusal(signChange(genuine({ pairing: 'pair-earlier-0000' }), identity.privateKey), 'another pairing refused')).last!.reason!, /earlier deployment/);
  // A replay of the genuine change a1 applied at the start, after a newer one was applied.
  const first = onWire.a1![0]!;
  await desktop.request('fleet.saveMonitor', { agentId: 'a1', monitor: { id: applied1.monitors[0]!.id as string, type: 'log', name: 'App log (renamed)', config: { path: logFile } } });
  await waitFor(async () => (await desktop.request('fleet.get', { agentId: 'a1' })).monitors[0]?.name === 'App log (renamed)' && latest('a1')?.last?.outcome === 'applied', 'the rename applied', 30_000);
  const replay = await refusal(first, 'the replayed change refused');
  assert.match(replay.last!.reason!, /a replay: change 1 is older than change \d+, the latest/);
  // Prepared from a revision that is no longer in force (a1's configuration changed there meanwhile).
  const stale = await refusal(signChange(genuine({ base: latest('a1')!.rev - 2, monitors: [] }), identity.privateKey), 'a stale change refused');
  assert.match(stale.last!.reason!, /changed since this change was prepared/);
  // None of these touched a1's configuration.
  assert.deepEqual(configOf(agents.a1!.dir).monitors.map((m) => m.name), ['App log (renamed)']);
  assert.equal(latest('a1')!.rev, a1.rev + 1);

  // A change made on the agent itself is a new revision the desktop sees, and a change prepared before it is refused.
  const seen = await desktop.request('fleet.get', { agentId: 'a1' });
  const doc = configOf(agents.a1!.dir);
  writeFileSync(path.join(agents.a1!.dir, 'config.json'), JSON.stringify({ ...doc, monitors: [] }, null, 2));
  await waitFor(async () => (await desktop.request('fleet.get', { agentId: 'a1' })).agentRevision === seen.agentRevision + 1, 'the local edit to reach the desktop', 30_000);
  await assert.rejects(desktop.request('fleet.removeRule', { agentId: 'a1', id: 'none', ifRevision: seen.revision }), (err: Error & { code?: string }) => err.code === 'conflict');
  void configStateTopic;
});
