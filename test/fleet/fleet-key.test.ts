// The desktop's fleet key is made when it is first needed (deploying or pairing an agent), not whenever a desktop
// receives from a broker: a desktop that only takes in events has no private key lying in its data folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { FLEET_KEY_FILE, loadOrCreateIdentity } from '../../engine/fleet/identity.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { mosquittoAvailable, startMosquitto } from '../helpers/mosquitto.js';
import { writeConfig } from '../forwarding/helpers.js';

const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';

test('a desktop that receives from a broker and has no agents makes no fleet-key; the first pairing makes it', { skip, timeout: 60_000 }, async (t) => {
  const broker = await startMosquitto({ persistence: false });
  t.after(() => broker.close());
  const dir = path.join(tempDir(t, 'panoptes-fleet-key-'), 'desktop');
  writeConfig(dir, { forwarding: { subscribe: [{ url: broker.url }] } });
  const desktop = await Engine.open({ dataDir: dir, log: silentLogger, startMonitors: false, agentId: 'desktop' });
  t.after(() => desktop.close());
  await waitFor(async () => (await desktop.request('forwarding.get', {})).status.receivers[0]?.connected, 'the desktop to be connected to the broker', 30_000);
  // What the Monitors view asks for at once: the machines it could switch to (none), and still no key.
  const list = await desktop.request('fleet.list', {});
  assert.deepEqual(list.machines, []);
  assert.equal(list.publicKey, null);
  assert.equal(existsSync(path.join(dir, FLEET_KEY_FILE)), false, 'the fleet-key was made with nothing to pair');

  // Deploying (the CLI and the form pair through the same call) makes it, 0600, and fleet.list names it.
  const made = loadOrCreateIdentity(dir);
  assert.equal(existsSync(path.join(dir, FLEET_KEY_FILE)), true);
  const after = await desktop.request('fleet.list', {});
  assert.equal(after.publicKey, made.publicKey);
  assert.equal(after.keyId, made.keyId);
});
