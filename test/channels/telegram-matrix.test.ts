// Telegram's Bot API and Matrix's client-server API, each played by a local server in its documented format:
// what arrives, that Matrix's transaction id is the idempotency key (a retry is the same event), and the errors —
// 401 at the token field, "chat not found" / M_FORBIDDEN at the chat or room, 429 with the service's retry time.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import telegram from '../../channels/telegram/index.js';
import matrix from '../../channels/matrix/index.js';
import { fakeService, json, notification, sendError, sendWith, type FakeService } from '../helpers/channel-harness.js';

const servers: FakeService[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

const TOKEN = '123456789:AAEhBP0av28bMKd0S7Yc-FgwK2nA3T2FXvQ';

// Telegram: POST /bot<token>/sendMessage; {"ok":true,"result":Message} or {"ok":false,"error_code","description"}.
const tg = await fakeService((r, res) => {
  const m = /^\/bot([^/]+)\/sendMessage$/.exec(r.path);
  if (!m) return json(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
  if (m[1] !== TOKEN) return json(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
  const b = JSON.parse(r.body);
  if (b.chat_id !== '42') return json(res, 400, { ok: false, error_code: 400, description: 'Bad Request: chat not found' });
  json(res, 200, { ok: true, result: { message_id: 7, date: 1700000000, chat: { id: 42, type: 'private' }, text: b.text } });
});
servers.push(tg);
const tgConfig = { api: tg.origin, botToken: TOKEN, chatId: '42' };

test('Telegram: sendMessage gets the chat id and the text as escaped HTML with the link', async () => {
  await sendWith(telegram, tgConfig);
  const r = tg.received.at(-1)!;
  assert.equal(r.path, `/bot${TOKEN}/sendMessage`);
  const b = JSON.parse(r.body);
  assert.equal(b.chat_id, '42');
  assert.equal(b.parse_mode, 'HTML');
  assert.equal(b.text, '<b>Build failed</b>\nmain is red &lt;b&gt;again&lt;/b&gt; &amp; again\n<a href="https://ci.example.org/run/42">https://ci.example.org/run/42</a>');
  assert.equal(b.disable_notification, false);
});

test('Telegram: a wrong bot token (401 Unauthorized) is permanent, at the bot token field', async () => {
  const err = await sendError(telegram, { ...tgConfig, botToken: '123456789:AAEwrongwrongwrongwrongwrongwrong' });
  assert.equal(err.permanent, true);
  assert.equal(err.field, 'botToken');
  assert.match(err.message, /Telegram did not accept the credentials \(401\): Unauthorized/);
});

test('Telegram: "chat not found" is blamed on the chat field', async () => {
  const err = await sendError(telegram, { ...tgConfig, chatId: '43' });
  assert.equal(err.field, 'chatId');
  assert.equal(err.permanent, true);
  assert.match(err.message, /chat not found/);
});

test('Telegram: 429 "Too Many Requests: retry after 5" waits parameters.retry_after seconds', async () => {
  tg.answers.push((_r, res) => json(res, 429, { ok: false, error_code: 429, description: 'Too Many Requests: retry after 5', parameters: { retry_after: 5 } }));
  const err = await sendError(telegram, tgConfig);
  assert.equal(err.permanent, false);
  assert.equal(err.retryAfterMs, 5000);
});

test('Telegram: a token that is not in BotFather\'s form is refused at the field before any request', async () => {
  const before = tg.received.length;
  const { parseChannelConfig } = await import('../../core/channel-config.js');
  assert.throws(() => parseChannelConfig(telegram, { ...tgConfig, botToken: 'abc' }), /botToken: a bot token looks like/);
  assert.equal(tg.received.length, before);
});

// Matrix: PUT /_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId}; the server dedupes by txnId per token.
const events = new Map<string, string>();
let nextEvent = 1;
const mx = await fakeService((r, res) => {
  const url = new URL(r.path, 'http://x');
  if (r.headers.authorization !== 'Bearer syt_good') return json(res, 401, { errcode: 'M_UNKNOWN_TOKEN', error: 'Invalid access token passed.', soft_logout: false });
  const alias = /^\/_matrix\/client\/v3\/directory\/room\/(.+)$/.exec(url.pathname);
  if (alias) {
    return decodeURIComponent(alias[1]!) === '#alerts:example.org' ? json(res, 200, { room_id: '!abc:example.org', servers: ['example.org'] }) : json(res, 404, { errcode: 'M_NOT_FOUND', error: 'Room alias not found' });
  }
  const m = /^\/_matrix\/client\/v3\/rooms\/([^/]+)\/send\/m\.room\.message\/([^/]+)$/.exec(url.pathname);
  if (!m || r.method !== 'PUT') return json(res, 404, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
  if (decodeURIComponent(m[1]!) !== '!abc:example.org') return json(res, 403, { errcode: 'M_FORBIDDEN', error: 'User @bot:example.org not in room !zzz:example.org' });
  const txn = decodeURIComponent(m[2]!);
  if (!events.has(txn)) events.set(txn, `$event${nextEvent++}`);
  json(res, 200, { event_id: events.get(txn) });
});
servers.push(mx);
const mxConfig = { homeserver: mx.origin, accessToken: 'syt_good', room: '!abc:example.org' };

test('Matrix: PUT send with the idempotency key as txnId; sending it again is the same event', async () => {
  const n = notification({ idempotencyKey: 'notif-01HX/matrix:home' });
  await sendWith(matrix, mxConfig, n);
  await sendWith(matrix, mxConfig, n);
  const [a, b] = mx.received.slice(-2);
  assert.equal(a!.method, 'PUT');
  assert.equal(a!.path, '/_matrix/client/v3/rooms/!abc%3Aexample.org/send/m.room.message/notif-01HX%2Fmatrix%3Ahome');
  assert.equal(a!.path, b!.path);
  assert.equal(events.size, 1, 'one event for two sends of one notification');
  const body = JSON.parse(a!.body);
  assert.equal(body.msgtype, 'm.text');
  assert.equal(body.body, 'Build failed\nmain is red <b>again</b> & again\nhttps://ci.example.org/run/42');
  assert.equal(body.format, 'org.matrix.custom.html');
  assert.match(body.formatted_body, /^<b>Build failed<\/b><br>main is red &lt;b&gt;/);
});

test('Matrix: a room alias is resolved through the directory, then sent to its id', async () => {
  await sendWith(matrix, { ...mxConfig, room: '#alerts:example.org' }, notification({ idempotencyKey: 'k-alias' }));
  const [dir, send] = mx.received.slice(-2);
  assert.match(dir!.path, /^\/_matrix\/client\/v3\/directory\/room\/%23alerts%3Aexample\.org$/);
  assert.match(send!.path, /rooms\/!abc%3Aexample\.org\/send/);
  const err = await sendError(matrix, { ...mxConfig, room: '#nope:example.org' });
  assert.equal(err.field, 'room');
});

test('Matrix: M_UNKNOWN_TOKEN (401) at the access token field; M_FORBIDDEN (not in the room) at the room', async () => {
  const e1 = await sendError(matrix, { ...mxConfig, accessToken: 'syt_bad' });
  assert.equal(e1.field, 'accessToken');
  assert.equal(e1.permanent, true);
  assert.match(e1.message, /M_UNKNOWN_TOKEN/);
  const e2 = await sendError(matrix, { ...mxConfig, room: '!zzz:example.org' });
  assert.equal(e2.field, 'room');
  assert.match(e2.message, /not in room/);
});

test('Matrix: M_LIMIT_EXCEEDED waits retry_after_ms', async () => {
  mx.answers.push((_r, res) => json(res, 429, { errcode: 'M_LIMIT_EXCEEDED', error: 'Too many requests', retry_after_ms: 2500 }));
  const err = await sendError(matrix, mxConfig);
  assert.equal(err.permanent, false);
  assert.equal(err.retryAfterMs, 2500);
});
