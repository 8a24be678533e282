// Signed is not the same as current: a broker user who recorded one of a paired agent's retained messages (its
// status, its configuration state) can publish it again, retained, after the agent has said something newer — the
// signature still verifies. The desktop must keep showing the newest: an older one is refused and kept in that
// machine's log of refusals. And what is genuinely newer still counts: the agent's last will ("connection lost"),
// published by the broker when it dies, also after the agent rode out a broker restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import { configStateTopic, decodeConfigState } from '../../engine/fleet/wire.js';
import { decodeStatus, statusTopic } from '../../engine/forwarding/wire.js';
import { waitFor } from '../helpers/tmp.js';
import { mosquittoAvailable } from '../helpers/mosquitto.js';
import { pairedFleet } from './helpers.js';

const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';

test("a paired agent's recorded status and configuration state, published again later, are refused as older; its will still counts", { skip, timeout: 280_000 }, async (t) => {
  const f = await pairedFleet(t, {
    prefix: 'panoptes-stale-',
    persistence: true,
    agentConfig: (root, url) => ({
      monitors: [{ id: 'log:app', type: 'log', name: 'App log', enabled: true, config: { path: path.join(root, 'app.log') } }],
      // A short keepalive: the broker publishes the will soon after the agent dies.
      forwarding: { forward: { url, keepaliveSeconds: 5 } },
    }),
  });
  const { broker, desktop, root } = f;
  const peer = () => desktop.forwarding.peers.list().find((p) => p.agentId === 'a1');
  const refusedOf = (what: string) => (peer()?.refused ?? []).filter((r) => r.what === what);

  // A broker user records what a1 says (it may subscribe to a1's topics).
  const recorder = await connectAsync(broker.url, { clientId: 'recorder' });
  t.after(() => recorder.endAsync());
  const said: { topic: string; payload: Buffer }[] = [];
  recorder.on('message', (topic, payload) => {
    if (payload.length) said.push({ topic, payload: Buffer.from(payload) });
  });
  await recorder.subscribeAsync([statusTopic('a1'), configStateTopic('a1')], { qos: 1 });
  await waitFor(async () => (await desktop.request('fleet.get', { agentId: 'a1' }).catch(() => null))?.verified, 'a1 verified at the desktop', 60_000);
  await waitFor(() => peer()?.state === 'online', 'a1 online', 60_000);

  // --- its configuration state ---
  const oldState = await waitFor(() => said.find((m) => m.topic === configStateTopic('a1') && decodeConfigState(m.payload, 'a1')?.monitors.some((x) => x.name === 'App log')), 'a recorded configuration state', 30_000);
  await desktop.request('fleet.saveMonitor', { agentId: 'a1', monitor: { id: 'log:app', type: 'log', name: 'App log (renamed)', config: { path: path.join(root, 'app.log') } } });
  const applied = await waitFor(async () => {
    const v = await desktop.request('fleet.get', { agentId: 'a1' });
    return v.pending === null && v.last?.outcome === 'applied' && v.monitors[0]?.name === 'App log (renamed)' ? v : null;
  }, 'the rename applied by a1', 60_000);
  await recorder.publishAsync(configStateTopic('a1'), oldState.payload, { qos: 1, retain: true });
  const afterReplay = await waitFor(async () => {
    const v = await desktop.request('fleet.get', { agentId: 'a1' });
    return v.agentRevision !== applied.agentRevision || refusedOf('configuration state').length ? v : null;
  }, 'the desktop to take or refuse the recorded configuration state', 30_000);
  // Taken, it would show a1 back at its old revision, the applied rename "waiting" for it again.
  assert.equal(afterReplay.agentRevision, applied.agentRevision, 'the desktop still shows the revision a1 has now');
  assert.equal(afterReplay.pending, null);
  assert.deepEqual(afterReplay.last, applied.last);
  assert.match(refusedOf('configuration state')[0]?.why ?? '', /older/);

  // --- its status ---
  const oldOnline = said.filter((m) => m.topic === statusTopic('a1') && decodeStatus(m.payload, 'a1')?.state === 'online').pop()!;
  assert.ok(oldOnline, 'an online status was recorded');
  await f.agent.stop();
  await waitFor(() => peer()?.state === 'offline', 'a1 offline after it stopped', 30_000);
  await recorder.publishAsync(statusTopic('a1'), oldOnline.payload, { qos: 1, retain: true });
  await waitFor(() => peer()?.state === 'online' || refusedOf('status').length, 'the desktop to take or refuse the recorded status', 30_000);
  assert.equal(peer()?.state, 'offline', 'a1 is still shown offline');
  assert.equal(peer()?.reason, 'stopped');
  assert.match(refusedOf('status')[0]?.why ?? '', /older/);

  // --- what is newer still counts: a restart, a broker restart, then its will when it dies ---
  await f.startAgent();
  await waitFor(() => peer()?.state === 'online', 'a1 online again after its restart', 60_000);
  await broker.stop();
  await broker.start();
  const n = said.length;
  await waitFor(() => said.slice(n).some((m) => m.topic === statusTopic('a1') && decodeStatus(m.payload, 'a1')?.state === 'online'), 'a1 to say it is online after the broker restart', 60_000);
  await waitFor(() => peer()?.state === 'online', 'a1 online at the desktop after the broker restart', 60_000);
  f.agent.child.kill('SIGKILL');
  await waitFor(() => peer()?.state === 'offline', "a1 offline at the desktop (its will) after it was killed", 60_000);
  assert.equal(peer()?.reason, 'connection lost');
  // What a1 says now was taken at every step (online after each restart, its will last). The number of refusals is
  // not fixed: QoS 1 is at least once, and a broker restarted with its sessions hands an unacknowledged older status
  // over again, which is refused as older — rightly, and said so in the log of refusals.
  for (const r of refusedOf('status')) assert.match(r.why, /older status of a1 was refused/);
});
