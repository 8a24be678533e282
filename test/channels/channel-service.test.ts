// Channels in the engine, through the protocol as the UI uses them: added from a form or an Apprise URL with the
// token kept out of the config document, a test notification through a local ntfy server, health that says how
// the last send went (and at which field it failed), and the sender's mapping of 429 / 5xx / no server at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { ChannelError } from '../../core/notification-channel.js';
import type { ChannelInfo, ChannelTestResult, ChannelTypeInfo } from '../../core/protocol.js';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/ports.js';
import { fakeService, json, notification } from '../helpers/channel-harness.js';

async function setup(t: { after(fn: () => unknown): void }) {
  const dir = tempDir(t);
  const engine = await Engine.open({ dataDir: dir, log: silentLogger, startMonitors: false, seedDefaultRules: false });
  t.after(() => engine.close());
  // ntfy: topic "phone" wants the token tk_good.
  const ntfy = await fakeService((r, res) => {
    if (r.headers.authorization !== 'Bearer tk_good') return json(res, 401, { code: 40101, http: 401, error: 'unauthorized', link: 'https://ntfy.sh/docs/publish/#authentication' });
    json(res, 200, { id: 'x1', event: 'message', topic: JSON.parse(r.body).topic });
  });
  t.after(() => ntfy.close());
  return { dir, engine, ntfy };
}

const refusal = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string; issues?: { path: string; message: string }[] };
  }
  throw new Error('the request succeeded');
};

test('channels.types lists every channel type with its form schema, secret fields marked, and its URL schemes', async (t) => {
  const { engine } = await setup(t);
  const types = (await engine.request('channels.types', {})) as ChannelTypeInfo[];
  assert.deepEqual(types.map((x) => x.type).sort(), [...engine.channelTypes.keys()].sort());
  for (const want of ['ntfy', 'gotify', 'pushover', 'telegram', 'matrix', 'discord', 'slack', 'webhook']) assert.ok(types.some((x) => x.type === want), want);
  const tg = types.find((x) => x.type === 'telegram')!;
  const props = tg.configSchema.properties as Record<string, { secret?: boolean; label?: string }>;
  assert.equal(props.botToken!.secret, true);
  assert.equal(props.botToken!.label, 'Bot token');
  assert.deepEqual(tg.urlSchemes, ['tgram', 'telegram']);
});

test('a channel added from an Apprise URL keeps its token in the 0600 secret store, never in config.json', async (t) => {
  const { dir, engine, ntfy } = await setup(t);
  const url = ntfy.origin.replace('http://', 'ntfy://tk_good@') + '/phone';
  const added = (await engine.request('channels.add', { name: 'My phone', url })) as ChannelInfo;
  assert.equal(added.id, 'ntfy:my-phone');
  assert.equal(added.type, 'ntfy');
  assert.deepEqual(added.config, { server: ntfy.origin, topic: 'phone' });
  assert.deepEqual(added.secretsSet, ['token']);
  assert.equal(added.health.status, 'unknown');
  const configText = readFileSync(path.join(dir, 'config.json'), 'utf8');
  assert.ok(!configText.includes('tk_good'), 'the token is not in the config document');
  assert.ok(configText.includes('"topic": "phone"'));
  const secretsFile = path.join(dir, 'secrets.json');
  assert.ok(readFileSync(secretsFile, 'utf8').includes('tk_good'));
  assert.equal(statSync(secretsFile).mode & 0o777, 0o600);
  const listed = (await engine.request('channels.list', {})) as ChannelInfo[];
  assert.ok(!JSON.stringify(listed).includes('tk_good'), 'what goes to the UI holds no secret');
});

test('Send test notification: accepted → health ok; a 401 → the message at the token field, health failing', async (t) => {
  const { engine, ntfy } = await setup(t);
  const ch = (await engine.request('channels.add', { name: 'Phone', type: 'ntfy', config: { server: ntfy.origin, topic: 'phone', token: 'tk_good' } })) as ChannelInfo;
  const ok = (await engine.request('channels.test', { id: ch.id })) as ChannelTestResult;
  assert.deepEqual(ok, { ok: true, message: 'ntfy accepted the test notification', field: null, retryAfterMs: null });
  const sent = JSON.parse(ntfy.received.at(-1)!.body);
  assert.equal(sent.title, 'Panoptes test notification');
  let health = ((await engine.request('channels.list', {})) as ChannelInfo[])[0]!.health;
  assert.equal(health.status, 'ok');
  assert.ok(health.lastSuccess);

  // The token is changed to a wrong one; an empty token in a later form keeps the stored (wrong) one.
  await engine.request('channels.update', { id: ch.id, config: { server: ntfy.origin, topic: 'phone', token: 'tk_wrong' } });
  await engine.request('channels.update', { id: ch.id, config: { server: ntfy.origin, topic: 'phone', token: '' } });
  const bad = (await engine.request('channels.test', { id: ch.id })) as ChannelTestResult;
  assert.equal(bad.ok, false);
  assert.equal(bad.field, 'token');
  assert.match(bad.message, /ntfy did not accept the credentials \(401\): unauthorized/);
  health = ((await engine.request('channels.list', {})) as ChannelInfo[])[0]!.health;
  assert.equal(health.status, 'failing');
  assert.equal(health.lastErrorField, 'token');
  assert.ok(health.lastSuccess, 'the last success is still known');

  // Testing the form's unsaved token does not change the saved channel's health.
  const fixed = (await engine.request('channels.test', { id: ch.id, config: { server: ntfy.origin, topic: 'phone', token: 'tk_good' } })) as ChannelTestResult;
  assert.equal(fixed.ok, true);
  assert.equal(((await engine.request('channels.list', {})) as ChannelInfo[])[0]!.health.status, 'failing');
});

test('bad input is refused with the message at the field: unknown scheme, missing token, unknown type', async (t) => {
  const { engine } = await setup(t);
  const e1 = await refusal(engine.request('channels.add', { url: 'foo://bar/baz' }));
  assert.equal(e1.code, 'invalid');
  assert.equal(e1.issues?.[0]?.path, '$.url');
  assert.match(e1.message, /unknown channel scheme "foo:\/\/"/);
  const e2 = await refusal(engine.request('channels.add', { url: 'tgram://123456789:AAEhBP0av28bMKd0S7Yc-FgwK2nA3T2FXvQ' }));
  assert.match(e2.issues![0]!.message, /no chat id/);
  const e3 = await refusal(engine.request('channels.add', { name: 'G', type: 'gotify', config: { server: 'https://gotify.example.org' } }));
  assert.deepEqual(e3.issues, [{ path: '$.token', message: 'required' }]);
  const e4 = await refusal(engine.request('channels.add', { type: 'carrier-pigeon', config: {} }));
  assert.equal(e4.issues?.[0]?.path, '$.type');
  assert.deepEqual(await engine.request('channels.list', {}), [], 'nothing half-added');
});

test('the sender: 429 with Retry-After and 503 are retryable, no server at all is retryable, a turned-off channel is not sent', async (t) => {
  const { engine, ntfy } = await setup(t);
  const ch = (await engine.request('channels.add', { name: 'Phone', type: 'ntfy', config: { server: ntfy.origin, topic: 'phone', token: 'tk_good' } })) as ChannelInfo;
  ntfy.answers.push((_r, res) => json(res, 429, { code: 42901, http: 429, error: 'limit reached: too many requests' }, { 'retry-after': '12' }));
  const e1 = await engine.channels.send(ch.id, notification()).then(() => null, (e: unknown) => e as ChannelError);
  assert.ok(e1 instanceof ChannelError);
  assert.equal(e1.permanent, false);
  assert.equal(e1.retryAfterMs, 12_000);
  ntfy.answers.push((_r, res) => json(res, 503, { code: 50301, http: 503, error: 'service unavailable' }));
  const e2 = await engine.channels.send(ch.id, notification()).then(() => null, (e: unknown) => e as ChannelError);
  assert.equal(e2?.permanent, false);
  await engine.channels.send(ch.id, notification());
  assert.equal(engine.channels.health(ch.id).status, 'ok');

  await engine.request('channels.update', { id: ch.id, config: { server: `http://127.0.0.1:${await freePort()}`, topic: 'phone' } });
  const e3 = await engine.channels.send(ch.id, notification()).then(() => null, (e: unknown) => e as ChannelError);
  assert.equal(e3?.permanent, false);
  assert.match(e3!.message, /connection refused/);

  await engine.request('channels.update', { id: ch.id, enabled: false });
  const e4 = await engine.channels.send(ch.id, notification()).then(() => null, (e: unknown) => e as ChannelError);
  assert.equal(e4?.permanent, true);
  assert.match(e4!.message, /turned off/);
});

test('health survives a restart; removing a channel removes its secrets', async (t) => {
  const { dir, engine, ntfy } = await setup(t);
  const ch = (await engine.request('channels.add', { name: 'Phone', type: 'ntfy', config: { server: ntfy.origin, topic: 'phone', token: 'tk_good' } })) as ChannelInfo;
  await engine.channels.send(ch.id, notification());
  const before = engine.channels.health(ch.id);
  await engine.close();
  const again = await Engine.open({ dataDir: dir, log: silentLogger, startMonitors: false, seedDefaultRules: false });
  t.after(() => again.close());
  assert.deepEqual(again.channels.health(ch.id), before);
  assert.deepEqual(await again.request('channels.remove', { id: ch.id }), { removed: true });
  assert.ok(!readFileSync(path.join(dir, 'secrets.json'), 'utf8').includes('tk_good'));
  assert.deepEqual(await again.request('channels.list', {}), []);
});

test('a refused send is logged without the channel\'s token (Telegram\'s is in the request path)', async (t) => {
  const lines: string[] = [];
  const { createLogger } = await import('../../core/log.js');
  const engine = await Engine.open({ dataDir: tempDir(t), log: createLogger('t', 'debug', (l) => lines.push(l)), startMonitors: false, seedDefaultRules: false });
  t.after(() => engine.close());
  const tg = await fakeService((_r, res) => json(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' }));
  t.after(() => tg.close());
  const token = '123456789:AAEsecretsecretsecretsecretsecret0';
  const ch = (await engine.request('channels.add', { name: 'TG', type: 'telegram', config: { api: tg.origin, botToken: token, chatId: '42' } })) as ChannelInfo;
  const r = (await engine.request('channels.test', { id: ch.id })) as ChannelTestResult;
  assert.equal(r.field, 'botToken');
  await engine.channels.send(ch.id, notification()).catch(() => {});
  assert.ok(lines.some((l) => l.includes('Telegram did not accept the credentials')), 'the refusal is logged');
  assert.ok(!lines.some((l) => l.includes('AAEsecret')), 'the token is not');
  assert.ok(!JSON.stringify(await engine.request('channels.list', {})).includes('AAEsecret'));
});
