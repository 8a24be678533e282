// An agent whose key this desktop has not recorded (deployed before agents had keys, or set up by hand) says what it
// says unverified: a broker user could be speaking for it. The desktop shows it as such and sends it nothing — no
// change, no question — until it is paired (an upgrade from here reads its key); what it forwards is still taken in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { forgetAgentKey, rememberAgentKey } from '../../engine/fleet/identity.js';
import { waitFor } from '../helpers/tmp.js';
import { mosquittoAvailable } from '../helpers/mosquitto.js';
import { pairedFleet } from './helpers.js';

const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';

test('an agent with no key recorded here is shown unverified and sent no change or question until paired', { skip, timeout: 200_000 }, async (t) => {
  // As an agent deployed before agents had keys: it takes changes from this desktop, and no key of it is recorded.
  const { desktop, desktopDir, a1, root } = await pairedFleet(t, { prefix: 'panoptes-unverified-', beforeAgentStarts: (dir) => forgetAgentKey(dir, 'a1') });
  const v = await waitFor(async () => {
    const x = await desktop.request('fleet.get', { agentId: 'a1' }).catch(() => null);
    return x?.paired ? x : null;
  }, 'a1 paired at the desktop', 60_000);
  assert.equal(v.verified, false);
  const peer = await waitFor(() => desktop.forwarding.status().peers.find((p) => p.agentId === 'a1' && p.state === 'online') ?? null, 'a1 online', 60_000);
  assert.equal((peer as { trust?: string }).trust, 'unverified', 'Machines says a1 is unverified');

  await assert.rejects(
    desktop.request('fleet.saveMonitor', { agentId: 'a1', monitor: { type: 'log', name: 'App log', config: { path: path.join(root, 'app.log') } } }),
    /a1 is unverified.*Pair it/,
    'no change is sent to an unverified agent',
  );
  await assert.rejects(desktop.request('fleet.health', { agentId: 'a1' }), /a1 is unverified.*Pair it/, 'no question either');
  assert.equal((await desktop.request('fleet.get', { agentId: 'a1' })).pending, null, 'nothing waits on the broker for it');

  // Paired (what an upgrade from here records): verified, and changes go.
  rememberAgentKey(desktopDir, 'a1', { publicKey: a1.publicKey, pairing: a1.pairing });
  await waitFor(() => (desktop.forwarding.status().peers.find((p) => p.agentId === 'a1') as { trust?: string } | undefined)?.trust === 'verified', 'a1 shown verified once its key is recorded', 30_000);
  await desktop.request('fleet.saveMonitor', { agentId: 'a1', monitor: { type: 'log', name: 'App log', config: { path: path.join(root, 'app.log') } } });
  await waitFor(async () => {
    const x = await desktop.request('fleet.get', { agentId: 'a1' });
    return x.last?.outcome === 'applied' && x.verified ? x : null;
  }, 'a1 to apply the change, verified', 60_000);
});
