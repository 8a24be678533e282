// The desktop drops a forwarded event it already has by its id — but retention deletes old events, and with them the
// memory of their ids. A broker user who recorded one of a paired agent's sealed messages can publish it again once
// retention took the event: the seal still verifies, and the event would come back as new (rules and notifications
// run on it again). Here the desktop's own retention sweep runs as it would after the retention period, and the
// recorded message is published again: refused and kept in the machine's log of refusals, not stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import { silentLogger } from '../../core/log.js';
import { RetentionSweeper } from '../../engine/retention.js';
import { eventsTopic } from '../../engine/forwarding/wire.js';
import { waitFor } from '../helpers/tmp.js';
import { mosquittoAvailable } from '../helpers/mosquitto.js';
import { logOf } from '../forwarding/helpers.js';
import { pairedFleet } from './helpers.js';

const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';
const DAY = 86_400_000;

test("a paired agent's sealed event, recorded and published again after retention deleted it, is refused (not stored as new)", { skip, timeout: 200_000 }, async (t) => {
  let appLog = '';
  const { broker, desktop } = await pairedFleet(t, {
    prefix: 'panoptes-sealed-replay-',
    desktopConfig: { settings: { retentionDays: 30 } },
    agentConfig: (root) => {
      appLog = path.join(root, 'app.log');
      writeFileSync(appLog, '');
      return { monitors: [{ id: 'log:app', type: 'log', name: 'App log', enabled: true, config: { path: appLog } }] };
    },
  });
  const stored = (title: string) => logOf(desktop.store, (e) => e.origin?.agentId === 'a1' && e.title === title);
  const refusedEvents = () => (desktop.forwarding.peers.list().find((p) => p.agentId === 'a1')?.refused ?? []).filter((r) => r.what === 'event');

  const recorder = await connectAsync(broker.url, { clientId: 'recorder' });
  t.after(() => recorder.endAsync());
  const seen: Buffer[] = [];
  recorder.on('message', (_topic, payload) => seen.push(Buffer.from(payload)));
  await recorder.subscribeAsync(eventsTopic('a1'), { qos: 1 });
  await waitFor(() => desktop.forwarding.peers.list().find((p) => p.agentId === 'a1')?.state === 'online', 'a1 online', 60_000);
  await waitFor(async () => (await desktop.request('fleet.health', { agentId: 'a1' }).catch(() => null))?.monitors.find((m) => m.id === 'log:app')?.health.status === 'ok', "a1's log monitor running", 60_000);

  appendFileSync(appLog, 'disk almost full\n');
  await waitFor(() => stored('disk almost full').length === 1, "a1's event at the desktop", 60_000);
  const recorded = await waitFor(() => seen.find((b) => b.includes('disk almost full')), "the recorder to have a1's sealed message", 30_000);
  assert.match(recorded.toString('utf8'), /"seal":\{/, 'a1 seals what it forwards');

  // Published again at once: the desktop still has the event, and drops it by its id.
  await recorder.publishAsync(eventsTopic('a1'), recorded, { qos: 1 });
  await waitFor(() => desktop.forwarding.status().receivers[0]!.duplicates >= 1, 'the copy dropped as a duplicate', 30_000);
  assert.equal(stored('disk almost full').length, 1);

  // The retention period passes: the sweep deletes the event (as the desktop's own sweeper does then).
  const sweeper = new RetentionSweeper(desktop.store, () => desktop.config.current, silentLogger);
  const later = Date.now() + 31 * DAY;
  while (sweeper.sweepSome(later) > 0);
  assert.equal(stored('disk almost full').length, 0, 'retention deleted the event');

  // Published again after that.
  await recorder.publishAsync(eventsTopic('a1'), recorded, { qos: 1 });
  await waitFor(() => stored('disk almost full').length > 0 || refusedEvents().length > 0, 'the desktop to store or refuse the recorded message', 30_000);
  assert.equal(stored('disk almost full').length, 0, 'the recorded event is not stored again as new');
  assert.match(refusedEvents()[0]?.why ?? '', /retention/);
});
