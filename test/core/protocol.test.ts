import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { channelPair } from '../../core/rpc/channel.js';
import { RemoteError, RpcClient } from '../../core/rpc/client.js';
import { tempDir } from '../helpers/tmp.js';

async function openClient(t: { after(fn: () => unknown): void }): Promise<{ engine: Engine; rpc: RpcClient }> {
  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, seedDefaultRules: false, startMonitors: false });
  t.after(() => engine.close());
  const [server, client] = channelPair();
  engine.connect(server);
  return { engine, rpc: new RpcClient(client) };
}

async function refusal(call: Promise<unknown>): Promise<RemoteError> {
  return call.then(
    (r) => assert.fail(`accepted, answered ${JSON.stringify(r)}`),
    (e: unknown) => {
      assert.ok(e instanceof RemoteError, String(e));
      return e;
    },
  );
}

test('a request with a parameter of the wrong type is refused as bad_request naming the field, and nothing changes', async (t) => {
  const { engine, rpc } = await openClient(t);
  const added = await rpc.call('monitors.add', { type: 'schedule', name: 'Tick', config: { name: 'Tick', every: '1h' }, enabled: false });

  const notBool = await refusal(rpc.call('monitors.update', { id: added.id, enabled: 'yes' } as never));
  assert.equal(notBool.error.code, 'bad_request');
  assert.deepEqual(notBool.error.issues?.map((i) => i.path), ['$.enabled']);
  assert.match(notBool.error.message, /enabled/);
  assert.equal(engine.config.current.monitors[0]!.enabled, false, 'the monitor is unchanged');

  const configNotObject = await refusal(rpc.call('monitors.add', { type: 'schedule', name: 'Again', config: 'every hour' } as never));
  assert.equal(configNotObject.error.code, 'bad_request');
  assert.equal(configNotObject.error.issues?.[0]?.path, '$.config');
  assert.equal(engine.config.current.monitors.length, 1, 'nothing was added');

  const idNotString = await refusal(rpc.call('events.get', { id: 42 } as never));
  assert.equal(idNotString.error.code, 'bad_request');
  assert.equal(idNotString.error.issues?.[0]?.path, '$.id');

  const nested = await refusal(rpc.call('settings.update', { notifications: { heldExpiryHours: 'five' } } as never));
  assert.equal(nested.error.code, 'bad_request');
  assert.equal(nested.error.issues?.[0]?.path, '$.notifications.heldExpiryHours');

  const unknown = await refusal(rpc.call('no.such.method' as never, {} as never));
  assert.equal(unknown.error.code, 'bad_request');
  assert.match(unknown.error.message, /no\.such\.method/);
});

test('a partial settings update keeps the settings it does not name', async (t) => {
  const { rpc } = await openClient(t);
  await rpc.call('settings.update', { retentionDays: 30 });
  const after = await rpc.call('settings.update', { theme: 'dark', notifications: { heldExpiryHours: 9 } });
  assert.equal(after.retentionDays, 30);
  assert.equal(after.theme, 'dark');
  assert.equal(after.notifications.heldExpiryHours, 9);
  assert.deepEqual(after.notifications.holdDuringFlags, ['dnd'], 'the notification settings it does not name are kept');
  assert.equal(after.notifications.storm.perRule, 5);
});
