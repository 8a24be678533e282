// An agent's answers are its own: the desktop knows each paired agent's public key (deploy reads it into the pairing)
// and takes an agent's configuration state and status only when they are signed with it. Here a broker user — any
// client the broker lets publish on the agent's topics — forges a1's configuration state (a monitor that is not there,
// a change "applied") and its status ("offline"). The desktop must refuse both and say so, and still take a1's
// genuine, signed messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import { configStateTopic } from '../../engine/fleet/wire.js';
import { statusTopic } from '../../engine/forwarding/wire.js';
import { waitFor } from '../helpers/tmp.js';
import { mosquittoAvailable } from '../helpers/mosquitto.js';
import { pairedFleet } from './helpers.js';

const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';

test("forged agent answers: a configuration state and a status not signed by the agent's key are refused and said so", { skip, timeout: 200_000 }, async (t) => {
  const { broker, desktop, identity, a1, root } = await pairedFleet(t, { prefix: 'panoptes-forged-' });

  const genuine = await waitFor(async () => {
    const v = await desktop.request('fleet.get', { agentId: 'a1' }).catch(() => null);
    return v?.paired ? v : null;
  }, 'a1 paired at the desktop', 60_000);
  await waitFor(() => desktop.forwarding.peers.list().find((p) => p.agentId === 'a1')?.state === 'online', 'a1 online', 60_000);

  const forger = await connectAsync(broker.url, { clientId: 'forger' });
  t.after(() => forger.endAsync());
  // A state in the agent's format, with the agent's pairing and controller (both are public on the broker).
  const forgedState = {
    pairing: a1.pairing,
    controller: identity.keyId,
    rev: genuine.agentRevision + 5,
    seenSeq: 99,
    monitors: [{ id: 'log:evil', type: 'log', name: 'Forged monitor', enabled: true, config: { path: '/etc/passwd' } }],
    rules: [],
    last: { seq: 99, outcome: 'applied', reason: null, at: new Date().toISOString(), rev: genuine.agentRevision + 5 },
    at: new Date().toISOString(),
  };
  await forger.publishAsync(configStateTopic('a1'), JSON.stringify(forgedState), { qos: 1 });
  const after = await waitFor(async () => {
    const v = await desktop.request('fleet.get', { agentId: 'a1' });
    const r = v as typeof v & { refused?: { message: string } | null };
    return r.refused || v.monitors.length ? r : null;
  }, 'the desktop to refuse (or take) the forged state', 30_000);
  assert.deepEqual(after.monitors, [], 'the forged monitor is not shown as a1\'s');
  assert.equal(after.agentRevision, genuine.agentRevision);
  assert.match(after.refused!.message, /not signed by a1's key/);

  await forger.publishAsync(statusTopic('a1'), JSON.stringify({ state: 'offline', reason: 'stopped', hostname: 'a1', at: new Date().toISOString() }), { qos: 1 });
  const rx = await waitFor(() => {
    const s = desktop.forwarding.status();
    const peer = s.peers.find((p) => p.agentId === 'a1');
    return peer?.state === 'offline' || s.receivers[0]?.rejected ? s : null;
  }, 'the desktop to refuse (or take) the forged status', 30_000);
  assert.equal(rx.peers.find((p) => p.agentId === 'a1')?.state, 'online', 'a forged "offline" does not take a1 offline');
  assert.match(rx.receivers[0]!.lastError ?? '', /status of a1 was refused: it is not signed by a1's key/);

  // a1's own messages are still taken: a change from the desktop is applied, and its signed answer shown.
  await desktop.request('fleet.saveMonitor', { agentId: 'a1', monitor: { id: 'log:app', type: 'log', name: 'App log', config: { path: path.join(root, 'app.log') } } });
  const applied = await waitFor(async () => {
    const v = await desktop.request('fleet.get', { agentId: 'a1' });
    return v.pending === null && v.last?.outcome === 'applied' ? v : null;
  }, 'a1 to apply the change and its signed state to be taken', 60_000);
  assert.deepEqual(applied.monitors.map((m) => m.id), ['log:app']);
});
