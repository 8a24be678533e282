// Channel sends through the action lanes: queued durably per (notification, channel), retried no sooner than a
// 429's Retry-After with the same idempotency key on every attempt, given up after one attempt on a 401 (so a
// fallback can take over at once), and each channel in its own lane.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../engine/engine.js';
import { enqueueChannelSend } from '../../engine/actions/channel.js';
import { silentLogger } from '../../core/log.js';
import type { ChannelInfo } from '../../core/protocol.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { fakeService, json, notification } from '../helpers/channel-harness.js';

const { idempotencyKey: _drop, ...n } = notification({ id: 'notif-1' });

test('a 429 with Retry-After is retried after that long with the same Idempotency-Key; a 401 is a dead letter at once', async (t) => {
  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, startMonitors: false, seedDefaultRules: false, actionRetry: { baseMs: 20, capMs: 100 } });
  t.after(() => engine.close());
  const times: number[] = [];
  const hook = await fakeService((r, res) => {
    times.push(Date.now());
    if (r.headers.authorization !== 'Bearer ok') return json(res, 401, { error: 'no' });
    json(res, 202, {});
  });
  t.after(() => hook.close());
  hook.answers.push((_r, res) => {
    times.push(Date.now());
    json(res, 429, { error: 'slow down' }, { 'retry-after': '1' });
  });
  const good = (await engine.request('channels.add', { name: 'Hook', type: 'webhook', config: { url: `${hook.origin}/good`, authorization: 'Bearer ok' } })) as ChannelInfo;
  const bad = (await engine.request('channels.add', { name: 'Bad', type: 'webhook', config: { url: `${hook.origin}/bad`, authorization: 'Bearer wrong' } })) as ChannelInfo;

  assert.equal(enqueueChannelSend(engine.store, good.id, n), true);
  assert.equal(enqueueChannelSend(engine.store, good.id, n), false, 'queued once per (notification, channel)');
  engine.outbox.wake();
  await waitFor(() => engine.store.outbox.list().find((i) => i.eventId === good.id)?.status === 'done', 'the retried send', 15_000);
  const toGood = hook.received.filter((r) => r.path === '/good');
  assert.equal(toGood.length, 2);
  assert.ok(times[1]! - times[0]! >= 950, `retried after ${times[1]! - times[0]!} ms, not before the Retry-After`);
  assert.equal(toGood[0]!.headers['idempotency-key'], toGood[1]!.headers['idempotency-key']);
  assert.match(String(toGood[0]!.headers['idempotency-key']), /^[0-9a-f]{32}$/);
  assert.equal(engine.store.outbox.list().find((i) => i.eventId === good.id)!.lane, `channel:${good.id}`);

  enqueueChannelSend(engine.store, bad.id, n);
  engine.outbox.wake();
  const dead = await waitFor(() => engine.store.outbox.list().find((i) => i.eventId === bad.id && i.status === 'failed'), 'the dead letter', 10_000);
  assert.equal(dead.attempts, 1);
  assert.match(String(dead.lastError), /401/);
  assert.equal(hook.received.filter((r) => r.path === '/bad').length, 1);
  assert.equal(engine.channels.health(bad.id).lastErrorField, 'authorization');
});
