// ntfy, Gotify and Pushover against local servers answering as each service documents: what arrives (headers,
// JSON or form body, priority, click URL), and each one's refusals — a wrong token (401) blamed on the token
// field, a rate limit (429) with when to retry, a server error retryable.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import ntfy from '../../channels/ntfy/index.js';
import gotify from '../../channels/gotify/index.js';
import pushover from '../../channels/pushover/index.js';
import { fakeService, json, notification, sendError, sendWith, type FakeService } from '../helpers/channel-harness.js';

const servers: FakeService[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

// ntfy: POST / {topic,…}; a protected topic wants "Authorization: Bearer tk_…"; errors are {"code","http","error"}.
const ntfyServer = await fakeService((r, res) => {
  const msg = JSON.parse(r.body) as { topic: string };
  if (msg.topic === 'private' && r.headers.authorization !== 'Bearer tk_good') return json(res, 403, { code: 40301, http: 403, error: 'forbidden', link: 'https://ntfy.sh/docs/publish/#authentication' });
  json(res, 200, { id: 'hwQ2YpKdmg', time: 1700000000, event: 'message', topic: msg.topic });
});
servers.push(ntfyServer);

test('ntfy: the notification arrives as ntfy JSON with title, priority 4 for high, and the click URL', async () => {
  await sendWith(ntfy, { server: ntfyServer.origin, topic: 'phone-alerts', tags: 'warning, ci' });
  const r = ntfyServer.received.at(-1)!;
  assert.equal(r.method, 'POST');
  assert.equal(r.path, '/');
  assert.match(String(r.headers['content-type']), /application\/json/);
  assert.deepEqual(JSON.parse(r.body), { topic: 'phone-alerts', title: 'Build failed', message: 'main is red <b>again</b> & again', priority: 4, click: 'https://ci.example.org/run/42', tags: ['warning', 'ci'], sequence_id: 'notif-01HX_ntfy_phone' });
  assert.equal(r.headers.authorization, undefined);
});

// ntfy (2.16+) treats messages with one sequence ID as one notification: a repeat replaces it on the phone instead
// of adding a second (an older server ignores the field). The ID is the send's idempotency key, in ntfy's alphabet.
test('ntfy: a retried send carries the same sequence_id, so the phone shows one notification', async () => {
  const key = '0123456789abcdef0123456789abcdef';
  ntfyServer.answers.push((_r, res) => json(res, 502, { code: 50201, http: 502, error: 'bad gateway' }));
  await sendError(ntfy, { server: ntfyServer.origin, topic: 'x' }, notification({ idempotencyKey: key }));
  await sendWith(ntfy, { server: ntfyServer.origin, topic: 'x' }, notification({ idempotencyKey: key }));
  const [a, b] = ntfyServer.received.slice(-2).map((r) => JSON.parse(r.body).sequence_id);
  assert.equal(a, key);
  assert.equal(b, key);
});

test('ntfy: urgent is priority 5, low is 2; a token goes as Bearer', async () => {
  await sendWith(ntfy, { server: ntfyServer.origin, topic: 'private', token: 'tk_good' }, notification({ priority: 'urgent', url: null }));
  const r = ntfyServer.received.at(-1)!;
  assert.equal(r.headers.authorization, 'Bearer tk_good');
  assert.equal(JSON.parse(r.body).priority, 5);
  assert.equal('click' in JSON.parse(r.body), false);
  await sendWith(ntfy, { server: ntfyServer.origin, topic: 'x' }, notification({ priority: 'low' }));
  assert.equal(JSON.parse(ntfyServer.received.at(-1)!.body).priority, 2);
});

test('ntfy: user name and password go as Basic auth', async () => {
  await sendWith(ntfy, { server: ntfyServer.origin, topic: 'x', username: 'phil', password: 'pw' });
  assert.equal(ntfyServer.received.at(-1)!.headers.authorization, 'Basic ' + Buffer.from('phil:pw').toString('base64'));
});

test('ntfy: a wrong token is a permanent error at the token field, with ntfy\'s own word', async () => {
  const err = await sendError(ntfy, { server: ntfyServer.origin, topic: 'private', token: 'tk_bad' });
  assert.equal(err.permanent, true);
  assert.equal(err.field, 'token');
  assert.match(err.message, /ntfy.*403.*forbidden/);
});

test('ntfy: a protected topic without any token says a token is needed, at the token field', async () => {
  const err = await sendError(ntfy, { server: ntfyServer.origin, topic: 'private' });
  assert.equal(err.field, 'token');
  assert.match(err.message, /protected.*token is needed/);
});

test('ntfy: 429 "limit reached" is retryable after the Retry-After; a 502 is retryable', async () => {
  ntfyServer.answers.push((_r, res) => json(res, 429, { code: 42901, http: 429, error: 'limit reached: too many requests, please be nice' }, { 'retry-after': '7' }));
  const err = await sendError(ntfy, { server: ntfyServer.origin, topic: 'x' });
  assert.equal(err.permanent, false);
  assert.equal(err.retryAfterMs, 7000);
  assert.match(err.message, /rate limiting.*too many requests/);
  ntfyServer.answers.push((_r, res) => json(res, 502, { code: 50201, http: 502, error: 'bad gateway' }));
  const e2 = await sendError(ntfy, { server: ntfyServer.origin, topic: 'x' });
  assert.equal(e2.permanent, false);
});

test('ntfy: the config refuses a topic with a slash and plain http to another machine, at those fields', async () => {
  const { parseChannelConfig, ChannelConfigError } = await import('../../core/channel-config.js');
  assert.throws(() => parseChannelConfig(ntfy, { topic: 'a/b' }), (e: InstanceType<typeof ChannelConfigError>) => e.issues[0]!.path === '$.topic');
  assert.throws(() => parseChannelConfig(ntfy, { server: 'http://ntfy.example.org', topic: 'a' }), (e: InstanceType<typeof ChannelConfigError>) => e.issues[0]!.path === '$.server' && /https/.test(e.issues[0]!.message));
  assert.equal((parseChannelConfig(ntfy, { topic: 'a' }) as { server: string }).server, 'https://ntfy.sh');
});

// Gotify: POST /message, X-Gotify-Key; 401 {"error":"Unauthorized","errorCode":401,"errorDescription":…}.
const gotifyServer = await fakeService((r, res) => {
  if (r.method !== 'POST' || new URL(r.path, 'http://x').pathname !== '/message') return json(res, 404, { error: 'Not Found', errorCode: 404, errorDescription: 'page not found' });
  if (r.headers['x-gotify-key'] !== 'AppTokenGood') return json(res, 401, { error: 'Unauthorized', errorCode: 401, errorDescription: 'you need to provide a valid access token or user credentials to access this api' });
  const m = JSON.parse(r.body);
  json(res, 200, { id: 25, appid: 5, message: m.message, title: m.title, priority: m.priority, date: new Date().toISOString() });
});
servers.push(gotifyServer);

test('Gotify: POST /message with X-Gotify-Key, priority 8 for high, the click URL in the notification extras', async () => {
  await sendWith(gotify, { server: gotifyServer.origin + '/', token: 'AppTokenGood' });
  const r = gotifyServer.received.at(-1)!;
  assert.equal(r.path, '/message');
  assert.equal(r.headers['x-gotify-key'], 'AppTokenGood');
  const b = JSON.parse(r.body);
  assert.equal(b.title, 'Build failed');
  assert.equal(b.message, 'main is red <b>again</b> & again');
  assert.equal(b.priority, 8);
  assert.deepEqual(b.extras['client::notification'], { click: { url: 'https://ci.example.org/run/42' } });
});

test('Gotify: a wrong application token is a permanent error at the token field, in Gotify\'s words', async () => {
  const err = await sendError(gotify, { server: gotifyServer.origin, token: 'nope' });
  assert.equal(err.permanent, true);
  assert.equal(err.field, 'token');
  assert.match(err.message, /Gotify.*401.*valid access token/);
});

test('Gotify: a server under a path prefix is reached there; a missing token is a config error at the field', async () => {
  const { parseChannelConfig } = await import('../../core/channel-config.js');
  assert.throws(() => parseChannelConfig(gotify, { server: gotifyServer.origin }), /token: required/);
  await sendError(gotify, { server: gotifyServer.origin + '/gotify', token: 'AppTokenGood' });
  assert.equal(gotifyServer.received.at(-1)!.path, '/gotify/message');
});

test('Gotify: 429 waits the Retry-After; a 503 is retryable', async () => {
  gotifyServer.answers.push((_r, res) => json(res, 429, { error: 'Too Many Requests', errorCode: 429, errorDescription: 'slow down' }, { 'retry-after': '4' }));
  const e1 = await sendError(gotify, { server: gotifyServer.origin, token: 'AppTokenGood' });
  assert.equal(e1.permanent, false);
  assert.equal(e1.retryAfterMs, 4000);
  gotifyServer.answers.push((_r, res) => json(res, 503, { error: 'Service Unavailable', errorCode: 503, errorDescription: 'database is locked' }));
  const e2 = await sendError(gotify, { server: gotifyServer.origin, token: 'AppTokenGood' });
  assert.equal(e2.permanent, false);
  assert.match(e2.message, /database is locked/);
});

// Pushover: POST /1/messages.json (form); {"status":1,"request":…}; 400 {"token":"invalid","errors":[…],"status":0}.
const pushoverServer = await fakeService((r, res) => {
  const f = new URLSearchParams(r.body);
  const request = 'e460545a-8e7e-4b5e-9c5f-0c2ab1bc9f1a';
  if (f.get('token') !== 'azGDORePK8gMaC0QOYAMyEEuzJnyUi') return json(res, 400, { token: 'invalid', errors: ['application token is invalid, see https://pushover.net/api'], status: 0, request });
  if (f.get('user') !== 'uQiRzpo4DXghDmr9QzzfQu27cmVRsG') return json(res, 400, { user: 'invalid', errors: ['user identifier is not a valid user, group, or subscribed user key, see https://pushover.net/api#identifiers'], status: 0, request });
  if (f.get('priority') === '2' && (!f.get('retry') || !f.get('expire'))) return json(res, 400, { retry: 'invalid', errors: ['retry is invalid'], status: 0, request });
  json(res, 200, { status: 1, request }, { 'x-limit-app-limit': '10000', 'x-limit-app-remaining': '7496' });
});
servers.push(pushoverServer);
const pushoverConfig = { api: pushoverServer.origin, token: 'azGDORePK8gMaC0QOYAMyEEuzJnyUi', userKey: 'uQiRzpo4DXghDmr9QzzfQu27cmVRsG' };

test('Pushover: the form Pushover documents arrives, urgent as emergency priority 2 with retry and expire', async () => {
  await sendWith(pushover, { ...pushoverConfig, device: 'pixel', sound: 'siren' }, notification({ priority: 'urgent' }));
  const r = pushoverServer.received.at(-1)!;
  assert.equal(r.path, '/1/messages.json');
  const f = new URLSearchParams(r.body);
  assert.equal(f.get('title'), 'Build failed');
  assert.equal(f.get('message'), 'main is red <b>again</b> & again');
  assert.equal(f.get('priority'), '2');
  assert.equal(f.get('retry'), '60');
  assert.equal(f.get('expire'), '3600');
  assert.equal(f.get('url'), 'https://ci.example.org/run/42');
  assert.equal(f.get('device'), 'pixel');
  assert.equal(f.get('sound'), 'siren');
  assert.equal(f.get('timestamp'), String(Date.parse('2026-12-06T12:00:00.000Z') / 1000));
});

test('Pushover: an invalid API token or user key is reported at that field', async () => {
  const e1 = await sendError(pushover, { ...pushoverConfig, token: 'wrongwrongwrongwrongwrongwrong' });
  assert.equal(e1.field, 'token');
  assert.equal(e1.permanent, true);
  assert.match(e1.message, /application token is invalid/);
  const e2 = await sendError(pushover, { ...pushoverConfig, userKey: 'uWRONG' });
  assert.equal(e2.field, 'userKey');
  assert.match(e2.message, /user identifier/);
});

test('Pushover: 429 (over the monthly limit) is retryable; a 500 too', async () => {
  pushoverServer.answers.push((_r, res) => json(res, 429, { errors: ['application has exceeded its message limit'], status: 0 }, { 'retry-after': '3600' }));
  const e = await sendError(pushover, pushoverConfig);
  assert.equal(e.permanent, false);
  assert.equal(e.retryAfterMs, 3_600_000);
  pushoverServer.answers.push((_r, res) => json(res, 500, { status: 0 }));
  assert.equal((await sendError(pushover, pushoverConfig)).permanent, false);
});
