// Forwarded events are the agent's own: an agent deployed from here seals what it forwards with its key, and the
// desktop stores an event on `panoptes/<agent>/events` of an agent whose key it knows only when the seal verifies.
// Here a broker user (any client the broker lets publish on the agent's topics) publishes an event in a1's name,
// and one of a1's genuine messages with its title changed: both refused and said; a1's own events still arrive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import { eventsTopic } from '../../engine/forwarding/wire.js';
import { waitFor } from '../helpers/tmp.js';
import { mosquittoAvailable } from '../helpers/mosquitto.js';
import { logOf } from '../forwarding/helpers.js';
import { pairedFleet } from './helpers.js';

const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';

test("forged forwarded events: an event published in a paired agent's name, or its genuine message altered, is refused and said", { skip, timeout: 200_000 }, async (t) => {
  const { broker, desktop, root } = await pairedFleet(t, {
    prefix: 'panoptes-forged-events-',
    agentConfig: (root) => {
      writeFileSync(path.join(root, 'app.log'), '');
      return { monitors: [{ id: 'log:app', type: 'log', name: 'App log', enabled: true, config: { path: path.join(root, 'app.log') } }] };
    },
  });
  const appLog = path.join(root, 'app.log');
  const fromA1 = () => logOf(desktop.store, (e) => e.origin?.agentId === 'a1' && e.source !== 'panoptes');

  // A broker user reads what a1 forwards (it can: it may subscribe), and publishes in its name.
  const forger = await connectAsync(broker.url, { clientId: 'forger' });
  t.after(() => forger.endAsync());
  const seen: string[] = [];
  forger.on('message', (_topic, payload) => seen.push(payload.toString('utf8')));
  await forger.subscribeAsync(eventsTopic('a1'), { qos: 1 });
  await waitFor(() => desktop.forwarding.peers.list().find((p) => p.agentId === 'a1')?.state === 'online', 'a1 online', 60_000);
  await waitFor(async () => (await desktop.request('fleet.health', { agentId: 'a1' }).catch(() => null))?.monitors.find((m) => m.id === 'log:app')?.health.status === 'ok', "a1's log monitor running", 60_000);

  appendFileSync(appLog, 'genuine line\n');
  await waitFor(() => fromA1().some((e) => e.title === 'genuine line'), "a1's genuine event at the desktop", 60_000);
  const genuine = await waitFor(() => seen.find((s) => s.includes('genuine line')) ?? null, "the forger to have read a1's message", 30_000);

  const forged = { id: '01JFORGEDEVENT000000000001', ts: new Date().toISOString(), receivedAt: new Date().toISOString(), source: 'log:app', type: 'log.line', title: 'forged: please run rm -rf', body: '', url: null, fields: {}, tags: [], origin: { agentId: 'a1', hostname: 'a1' } };
  await forger.publishAsync(eventsTopic('a1'), JSON.stringify(forged), { qos: 1 });
  // a1's own message (seal and all, if it has one), its title changed and given a new id.
  const altered = genuine.replace('genuine line', 'altered line').replace(/"id":"[^"]+"/, '"id":"01JFORGEDEVENT000000000002"');
  await forger.publishAsync(eventsTopic('a1'), altered, { qos: 1 });

  const rx = await waitFor(() => {
    const s = desktop.forwarding.status().receivers[0]!;
    const titles = fromA1().map((e) => e.title);
    return s.rejected >= 2 || titles.includes('forged: please run rm -rf') || titles.includes('altered line') ? { s, titles } : null;
  }, 'the desktop to refuse (or take) both forgeries', 30_000);
  // Both arrive after the genuine event on one connection, in order: once the later one is handled, so is the first.
  await waitFor(() => desktop.forwarding.status().receivers[0]!.rejected + fromA1().filter((e) => e.title !== 'genuine line').length >= 2, 'both forgeries handled', 30_000);
  const titles = fromA1().map((e) => e.title);
  assert.ok(!titles.includes('forged: please run rm -rf'), `an event published in a1's name is not stored (stored: ${JSON.stringify(titles)})`);
  assert.ok(!titles.includes('altered line'), "a1's message altered is not stored");
  assert.ok(rx.s.rejected >= 1);
  assert.match(desktop.forwarding.status().receivers[0]!.lastError ?? '', /event .*a1.* refused|refused.*event/i);

  // a1's own events still arrive.
  appendFileSync(appLog, 'second genuine line\n');
  await waitFor(() => fromA1().some((e) => e.title === 'second genuine line'), "a1's next genuine event at the desktop", 60_000);
});
