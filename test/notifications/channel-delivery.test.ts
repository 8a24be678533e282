// The notification center's sends to phone/chat channels go through the action lanes (engine/actions/channel.ts),
// the same path as every other action: one durable outbox row per (notification, channel), retried no sooner than
// a 429's Retry-After with the same idempotency key, a dead letter after the last attempt, then the fallback
// channel once. What happened on each channel is recorded as the notification's fate, in plain words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import type { ChannelInfo, DeadLetterInfo } from '../../core/protocol.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { fakeService, json } from '../helpers/channel-harness.js';

async function setup(t: { after(fn: () => unknown): void }) {
  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, startMonitors: false, seedDefaultRules: false, actionRetry: { baseMs: 20, capMs: 100 } });
  t.after(() => engine.close());
  await engine.request('rules.save', { rule: { id: 'builds', name: 'Build results', when: { type: 'ci.build' }, then: [{ notify: { title: 'Build {{ title }}', priority: 'high' } }] } });
  const ntfy = await fakeService((r, res) => json(res, 200, { id: 'm1', event: 'message', topic: JSON.parse(r.body).topic }));
  t.after(() => ntfy.close());
  const hook = await fakeService((_r, res) => json(res, 202, {}));
  t.after(() => hook.close());
  const phone = (await engine.request('channels.add', { name: 'Phone', type: 'ntfy', config: { server: ntfy.origin, topic: 'phone' } })) as ChannelInfo;
  const backup = (await engine.request('channels.add', { name: 'Backup hook', type: 'webhook', config: { url: `${hook.origin}/backup` } })) as ChannelInfo;
  return { engine, ntfy, hook, phone, backup };
}

const routing = (over: Record<string, string[]>, fallback: string | null) => ({
  byPriority: { low: ['ui'], normal: ['desktop', 'ui'], high: ['desktop', 'ui'], urgent: ['desktop', 'ui'], ...over },
  byRule: {},
  fallback,
});

const fatesOf = async (engine: Engine, eventId: string) => ((await engine.request('notifications.why', { eventId })) as { fates: { fate: string; text: string }[] }).fates;

test('a notification to ntfy runs in the channel lane: a 429 is retried after its Retry-After with the same key, and the fates say retrying, then delivered', async (t) => {
  const { engine, ntfy, phone } = await setup(t);
  await engine.request('settings.update', { notifications: { routing: routing({ high: [phone.id, 'ui'] }, null) } } as never);
  ntfy.answers.push((_r, res) => json(res, 429, { code: 42901, http: 429, error: 'limit reached: too many requests, please be nice' }, { 'retry-after': '1' }));
  const times: number[] = [];
  const seen = ntfy.received.length;
  const e = (await engine.emit('ci', { type: 'ci.build', title: '#42 failed' }))!;
  await waitFor(async () => (await fatesOf(engine, e.id)).some((f) => f.fate === 'delivered'), 'delivered to the phone', 15_000);
  const posts = ntfy.received.slice(seen);
  assert.equal(posts.length, 2, 'one refused, one accepted');
  for (const p of posts) times.push(JSON.parse(p.body).title === 'Build #42 failed' ? 1 : 0);
  assert.deepEqual(times, [1, 1]);
  const ids = posts.map((p) => JSON.parse(p.body).sequence_id);
  assert.match(ids[0], /^[0-9a-f]{32}$/, 'the lane\'s idempotency key as ntfy\'s sequence id');
  assert.equal(ids[1], ids[0], 'the retry replaces, never adds, on the phone');
  const row = engine.store.outbox.list().find((i) => i.lane === `channel:${phone.id}`);
  assert.ok(row, 'the send is an outbox row in the channel\'s lane');
  assert.equal(row.status, 'done');
  const fates = await fatesOf(engine, e.id);
  const retrying = fates.find((f) => f.fate === 'retrying');
  assert.ok(retrying, `a retrying fate among ${JSON.stringify(fates)}`);
  assert.match(retrying.text, /Phone.*429/);
  assert.match(fates.find((f) => f.fate === 'delivered')!.text, /delivered to Phone/);
});

test('a channel answering 500 ends as a dead letter after its retries, the fallback channel gets it once, and Retry delivers it when the service is back', async (t) => {
  const { engine, ntfy, hook, phone, backup } = await setup(t);
  await engine.request('settings.update', { notifications: { routing: routing({ high: [phone.id] }, backup.id) } } as never);
  let broken = true;
  for (let i = 0; i < 20; i++) ntfy.answers.push((r, res) => (broken ? json(res, 500, { code: 50001, http: 500, error: 'internal server error' }) : json(res, 200, { id: 'm2', event: 'message', topic: JSON.parse(r.body).topic })));
  const e = (await engine.emit('ci', { type: 'ci.build', title: '#43 failed' }))!;
  await waitFor(async () => (await fatesOf(engine, e.id)).some((f) => f.fate === 'delivered' && /Backup hook/.test(f.text)), 'the fallback delivery', 20_000);
  const fates = await fatesOf(engine, e.id);
  const failed = fates.find((f) => f.fate === 'failed');
  assert.ok(failed, `a failed fate among ${JSON.stringify(fates)}`);
  assert.match(failed.text, /Phone.*500.*dead letter/i);
  assert.match(fates.find((f) => f.fate === 'delivered')!.text, /fallback for Phone/);
  assert.equal(hook.received.filter((r) => r.path === '/backup').length, 1, 'the fallback got it once');
  const attempts = ntfy.received.length;
  assert.ok(attempts >= 2, 'the phone was tried more than once before giving up');

  const dead = (await engine.request('actions.deadLetters', {})) as { items: DeadLetterInfo[] };
  const letter = dead.items.find((d) => d.destination === `channel:${phone.id}`);
  assert.ok(letter, 'the phone send is a visible dead letter');
  assert.equal(letter.eventTitle, 'Build #43 failed', 'the dead letter says which notification it was');
  broken = false;
  await engine.request('actions.retry', { ruleId: letter.ruleId, eventId: letter.eventId, actionIndex: letter.actionIndex });
  await waitFor(async () => (await fatesOf(engine, e.id)).some((f) => f.fate === 'delivered' && /delivered to Phone/.test(f.text)), 'delivered after Retry', 15_000);
  await new Promise((r) => setImmediate(r));
  assert.equal(hook.received.filter((r) => r.path === '/backup').length, 1, 'no second fallback');
});
