// An emptied retained status drops an agent from Machines (that is how undeploy clears it) — but anyone the broker
// lets publish on the agent's topics can send one. For an agent whose key this desktop holds (deployed from here),
// empty retained messages on its status and configuration topics are ignored and said; the desktop's own undeploy
// forgets the agent's key first, and then its cleared status takes it off the list as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectAsync } from 'mqtt';
import { forgetAgentKey } from '../../engine/fleet/identity.js';
import { configStateTopic } from '../../engine/fleet/wire.js';
import { statusTopic } from '../../engine/forwarding/wire.js';
import { waitFor } from '../helpers/tmp.js';
import { mosquittoAvailable } from '../helpers/mosquitto.js';
import { pairedFleet } from './helpers.js';

const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';

test("empty retained messages from a broker user do not erase an agent deployed from here; the desktop's own undeploy still does", { skip, timeout: 200_000 }, async (t) => {
  const { broker, desktop, desktopDir, agent } = await pairedFleet(t, { prefix: 'panoptes-erased-' });
  await waitFor(async () => (await desktop.request('fleet.get', { agentId: 'a1' }).catch(() => null))?.verified, 'a1 verified at the desktop', 60_000);
  await waitFor(() => desktop.forwarding.peers.list().find((p) => p.agentId === 'a1')?.state === 'online', 'a1 online', 60_000);

  const forger = await connectAsync(broker.url, { clientId: 'forger' });
  t.after(() => forger.endAsync());
  await forger.publishAsync(statusTopic('a1'), '', { qos: 1, retain: true });
  await forger.publishAsync(configStateTopic('a1'), '', { qos: 1, retain: true });
  const rx = await waitFor(() => {
    const s = desktop.forwarding.status();
    return !s.peers.some((p) => p.agentId === 'a1') || s.receivers[0]!.rejected > 0 ? s : null;
  }, 'the desktop to drop a1 or refuse the empty status', 30_000);
  assert.ok(rx.peers.some((p) => p.agentId === 'a1'), 'a1 is still listed in Machines');
  assert.match(rx.receivers[0]!.lastError ?? '', /empty status .*a1.* ignored/);
  const v = await waitFor(async () => {
    const x = await desktop.request('fleet.get', { agentId: 'a1' }).catch((e: Error) => e);
    return x instanceof Error || x.refused ? x : null;
  }, 'the desktop to drop or keep the configuration of a1', 30_000);
  assert.ok(!(v instanceof Error), `a1's configuration is still known (${v instanceof Error ? v.message : ''})`);
  assert.match(v.refused?.message ?? '', /empty configuration state .*ignored/);

  // The desktop's own undeploy: it forgets a1's key, then clears its retained messages.
  await agent.stop();
  forgetAgentKey(desktopDir, 'a1');
  await forger.publishAsync(statusTopic('a1'), '', { qos: 1, retain: true });
  await forger.publishAsync(configStateTopic('a1'), '', { qos: 1, retain: true });
  await waitFor(() => !desktop.forwarding.peers.list().some((p) => p.agentId === 'a1'), 'a1 to leave Machines after its undeploy', 30_000);
  await waitFor(async () => (await desktop.request('fleet.get', { agentId: 'a1' }).catch(() => 'gone')) === 'gone', "a1's configuration forgotten", 30_000);
});
