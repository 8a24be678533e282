// "Pause all monitors on <machine>" from the desktop, for real: a desktop engine in this process, an agent as a
// `panoptes agent` child process paired with it, a real Mosquitto between them. Pausing is a change like the others
// (signed, numbered, kept on the broker until the next one): applied at once when the agent is online, and applied
// when it is back by an agent that was stopped meanwhile — together with an edit made after it, which must not undo
// it. The agent's status then says "paused" (Settings → Machines) and so does the desktop's view of its
// configuration (the Monitors view switched to it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../helpers/tmp.js';
import { mosquittoAvailable } from '../helpers/mosquitto.js';
import { pairedFleet } from './helpers.js';

const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';

test('pause all monitors on an agent from the desktop: applied online, and by an agent that was away when it is back (with a later edit), shown in its status and view', { skip, timeout: 240_000 }, async (t) => {
  const f = await pairedFleet(t, {
    prefix: 'panoptes-fleet-pause-',
    persistence: true,
    agentConfig: (root) => {
      writeFileSync(path.join(root, 'app.log'), '');
      return { monitors: [{ id: 'log:app', type: 'log', name: 'App log', enabled: true, config: { path: path.join(root, 'app.log') } }] };
    },
  });
  const { desktop } = f;
  const logFile = path.join(f.root, 'app.log');
  const start = () => f.startAgent();

  const peer = () => desktop.forwarding.peers.list().find((p) => p.agentId === 'a1');
  const appLog = () => peer()?.monitors?.find((m) => m.id === 'log:app');
  const v0 = await waitFor(async () => {
    const v = await desktop.request('fleet.get', { agentId: 'a1' }).catch(() => null);
    return v?.paired ? v : null;
  }, 'a1 paired at the desktop', 60_000);
  assert.equal(v0.paused, false);
  await waitFor(() => peer()?.state === 'online' && appLog()?.status === 'ok', 'a1 online with its monitor running', 60_000);

  // --- online: paused at once, said in its status and its view ---
  const sent = await desktop.request('fleet.pause', { agentId: 'a1', paused: true, ifRevision: v0.revision });
  assert.equal(sent.paused, true, 'the view shows what was asked for while it waits');
  assert.ok(sent.pending, 'the pause is a change waiting for its answer');
  const applied = await waitFor(async () => {
    const v = await desktop.request('fleet.get', { agentId: 'a1' });
    return v.pending === null && v.last?.outcome === 'applied' && v.last.seq === sent.pending!.seq ? v : null;
  }, 'a1 to apply the pause', 30_000);
  assert.equal(applied.paused, true);
  assert.equal(applied.monitors.length, 1, 'pausing leaves its monitors as they are');
  assert.equal(applied.monitors[0]!.enabled, true, 'each monitor keeps its own switch');
  await waitFor(() => peer()?.paused === true && appLog()?.status === 'paused', 'a1 to say it is paused in its status', 30_000);
  assert.equal((await desktop.request('fleet.list', {})).machines.find((m) => m.agentId === 'a1')?.paused, true);

  // --- away: resume and an edit made after it wait on the broker; both are applied when it is back ---
  await f.agent.stop();
  await waitFor(() => peer()?.state === 'offline', 'a1 offline at the desktop', 30_000);
  const r1 = await desktop.request('fleet.pause', { agentId: 'a1', paused: false });
  assert.ok(r1.pending);
  assert.equal(r1.paused, false);
  const r2 = await desktop.request('fleet.saveMonitor', { agentId: 'a1', monitor: { id: 'log:other', type: 'log', name: 'Other log', config: { path: logFile } }, ifRevision: r1.revision });
  assert.equal(r2.pending!.seq, r1.pending!.seq + 1);
  assert.equal(r2.paused, false, 'a later edit carries the resume along (only the latest change is kept on the broker)');
  await start();
  const back = await waitFor(async () => {
    const v = await desktop.request('fleet.get', { agentId: 'a1' });
    return v.pending === null && v.last?.outcome === 'applied' && v.last.seq === r2.pending!.seq ? v : null;
  }, 'a1 to apply the resume and the edit on its return', 60_000);
  assert.equal(back.paused, false);
  assert.deepEqual(back.monitors.map((m) => m.id).sort(), ['log:app', 'log:other']);
  await waitFor(() => peer()?.state === 'online' && !peer()?.paused && appLog()?.status === 'ok', 'a1 to run its monitors again', 60_000);

  // --- away again: a pause sent meanwhile is applied on return, and survives the agent's restart ---
  await f.agent.stop();
  await waitFor(() => peer()?.state === 'offline', 'a1 offline again', 30_000);
  const p2 = await desktop.request('fleet.pause', { agentId: 'a1', paused: true });
  await start();
  await waitFor(async () => {
    const v = await desktop.request('fleet.get', { agentId: 'a1' });
    return v.pending === null && v.last?.seq === p2.pending!.seq && v.paused ? v : null;
  }, 'a1 to apply the pause on its return', 60_000);
  await waitFor(() => peer()?.state === 'online' && peer()?.paused === true, 'a1 paused in its status after its return', 30_000);
  await f.agent.stop();
  await start();
  await waitFor(() => peer()?.state === 'online' && peer()?.paused === true && appLog()?.status === 'paused', 'a1 still paused after a restart', 60_000);
});
