// Maintenance through the protocol: scheduled windows kept in the settings (for all checks or some tags), the
// `maintenance` flag, what is in maintenance now, and rules with `context.maintenance` gated by them in the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { channelPair } from '../../core/rpc/channel.js';
import { RemoteError, RpcClient } from '../../core/rpc/client.js';
import { maintenanceReason, windowOpen } from '../../core/maintenance.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

async function openClient(t: { after(fn: () => unknown): void }): Promise<{ engine: Engine; rpc: RpcClient }> {
  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, seedDefaultRules: false, startMonitors: false });
  t.after(() => engine.close());
  const [server, client] = channelPair();
  engine.connect(server);
  return { engine, rpc: new RpcClient(client) };
}

const hourAgo = () => new Date(Date.now() - 3_600_000).toISOString();
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

test('recurring windows: "Sundays 02:00–04:00" is open on Sunday at 03:00 local time, not at 04:00, not on Monday', () => {
  const w = { days: ['sun' as const], start: '02:00', end: '04:00' };
  assert.equal(windowOpen(w, new Date(2026, 11, 6, 3, 0).getTime()), true);
  assert.equal(windowOpen(w, new Date(2026, 11, 6, 4, 0).getTime()), false);
  assert.equal(windowOpen(w, new Date(2026, 11, 7, 3, 0).getTime()), false);
});

test('windows are saved, listed with whether they are open now, replaced by id and removed; bad ones are refused with the field', async (t) => {
  const { engine, rpc } = await openClient(t);
  const nightly = await rpc.call('maintenance.save', { window: { name: 'Sunday updates', days: ['sun'], start: '02:00', end: '04:00' } });
  assert.match(nightly.id, /^mw-/);
  assert.deepEqual(nightly.tags, []);
  const nas = await rpc.call('maintenance.save', { window: { name: 'NAS move', tags: ['nas'], from: hourAgo(), until: inAnHour() } });
  assert.equal(nas.open, true);

  let status = await rpc.call('maintenance.status', {});
  assert.deepEqual(status.windows.map((w) => w.name), ['Sunday updates', 'NAS move']);
  assert.equal(status.flag, false);
  assert.equal(engine.config.current.settings.maintenance.windows.length, 2, 'kept in the settings (config.json)');

  await rpc.call('maintenance.save', { window: { ...nas, name: 'NAS move (longer)', open: undefined } });
  status = await rpc.call('maintenance.status', {});
  assert.deepEqual(status.windows.map((w) => w.name), ['Sunday updates', 'NAS move (longer)'], 'same id: replaced in place');

  const refused = await rpc.call('maintenance.save', { window: { name: 'Broken', start: '25:00', end: '04:00' } }).then(
    () => assert.fail('accepted'),
    (e: RemoteError) => e,
  );
  assert.equal(refused.error.code, 'invalid');
  assert.equal(refused.error.issues?.[0]?.path, 'start');
  const incomplete = await rpc.call('maintenance.save', { window: { name: 'No times', days: ['mon'] } }).catch((e: RemoteError) => e);
  assert.match((incomplete as RemoteError).error.message, /give "from" and "until" \(one-off\) or "start" and "end" \(recurring\)/);

  assert.deepEqual(await rpc.call('maintenance.remove', { id: nightly.id }), { removed: true });
  assert.deepEqual(await rpc.call('maintenance.remove', { id: nightly.id }), { removed: false });
  assert.equal(engine.config.current.settings.maintenance.windows.length, 1);
});

test('the engine gates rules by the windows that apply to an event\'s tags, and by the maintenance flag', async (t) => {
  const { engine, rpc } = await openClient(t);
  await rpc.call('rules.save', { rule: { id: 'missed', when: { type: 'heartbeat.missed' }, context: { maintenance: false }, then: [{ notify: { title: '{{ title }}' } }] } });
  await rpc.call('maintenance.save', { window: { name: 'Backups paused', tags: ['backup'], from: hourAgo(), until: inAnHour() } });
  const fired = async () => (await rpc.call('traces.list', { ruleId: 'missed' })).traces.length;

  assert.deepEqual(maintenanceReason('heartbeat:backup', ['backup'], Date.now()), { kind: 'scheduled', id: (await rpc.call('maintenance.status', {})).windows[0]!.id, name: 'Backups paused' });
  await engine.emit('heartbeat:backup', { type: 'heartbeat.missed', title: 'Backup missed', tags: ['heartbeat', 'backup'] });
  await engine.emit('heartbeat:web', { type: 'heartbeat.missed', title: 'Web missed', tags: ['heartbeat'] });
  await waitFor(async () => (await fired()) === 1, 'the untagged heartbeat notified');
  const explained = await rpc.call('rules.explain', { eventId: (await rpc.call('events.list', { type: 'heartbeat.missed', limit: 10 })).events.find((e) => e.title === 'Backup missed')!.id, ruleId: 'missed' });
  assert.match(explained.verdicts[0]!.reason, /context\.maintenance: in maintenance now/);

  // "Start maintenance now": the flag puts everything in maintenance until it is cleared.
  await rpc.call('flags.set', { name: 'maintenance', for: '1h' });
  const status = await rpc.call('maintenance.status', {});
  assert.equal(status.flag, true);
  assert.ok(status.flagExpiresAt);
  const again = await engine.emit('heartbeat:web', { type: 'heartbeat.missed', title: 'Web missed again', tags: ['heartbeat'] });
  // Rules see an event when it is processed: clear the flag only after that.
  await waitFor(() => engine.processor.cursor >= again!.seq, 'the rules saw it');
  await rpc.call('flags.clear', { name: 'maintenance' });
  await engine.emit('heartbeat:web', { type: 'heartbeat.missed', title: 'Web missed a third time', tags: ['heartbeat'] });
  await waitFor(async () => (await fired()) === 2, 'the third one notified');
  const titles = (await rpc.call('traces.list', { ruleId: 'missed' })).traces.map((x) => ((x as { trace: { actions: { notify: { title: string } }[] } }).trace.actions[0]!.notify.title));
  assert.deepEqual(titles.sort(), ['Web missed', 'Web missed a third time']);
});
