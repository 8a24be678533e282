// Discord and Slack incoming webhooks and the generic webhook, against local servers answering as each
// documents: Discord's embed and its 429 JSON retry_after, Slack's text answers (invalid_token, no_service), and
// the generic webhook's Idempotency-Key that stays the same for a notification.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import discord from '../../channels/discord/index.js';
import slack from '../../channels/slack/index.js';
import webhook from '../../channels/webhook/index.js';
import { fakeService, json, notification, sendError, sendWith, text, type FakeService } from '../helpers/channel-harness.js';

const servers: FakeService[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

// Discord: POST /api/webhooks/{id}/{token}?wait=true → 200 Message; bad token → 401 {"message":"Invalid Webhook Token","code":50027}.
const dc = await fakeService((r, res) => {
  const m = /^\/api\/webhooks\/(\d+)\/([\w-]+)(\?.*)?$/.exec(r.path);
  if (!m) return json(res, 404, { message: '404: Not Found', code: 0 });
  if (m[1] !== '1122334455') return json(res, 404, { message: 'Unknown Webhook', code: 10015 });
  if (m[2] !== 'good-token') return json(res, 401, { message: 'Invalid Webhook Token', code: 50027 });
  json(res, 200, { id: '99', type: 0, content: '', embeds: JSON.parse(r.body).embeds, channel_id: '7' });
});
servers.push(dc);
const dcUrl = `${dc.origin}/api/webhooks/1122334455/good-token`;

test('Discord: one embed with title, description, link and a colour by priority; nobody is pinged', async () => {
  await sendWith(discord, { webhookUrl: dcUrl, username: 'Panoptes' }, notification({ body: '@everyone look' }));
  const r = dc.received.at(-1)!;
  assert.equal(r.path, '/api/webhooks/1122334455/good-token?wait=true');
  const b = JSON.parse(r.body);
  assert.equal(b.username, 'Panoptes');
  assert.deepEqual(b.allowed_mentions, { parse: [] });
  assert.equal(b.embeds.length, 1);
  assert.deepEqual(b.embeds[0], { title: 'Build failed', description: '@everyone look', url: 'https://ci.example.org/run/42', color: 0xe67e22, timestamp: '2026-12-06T12:00:00.000Z' });
});

test('Discord: an invalid webhook token (401) and an unknown webhook (404) are permanent, at the webhook URL', async () => {
  const e1 = await sendError(discord, { webhookUrl: `${dc.origin}/api/webhooks/1122334455/bad-token` });
  assert.equal(e1.field, 'webhookUrl');
  assert.equal(e1.permanent, true);
  assert.match(e1.message, /Invalid Webhook Token/);
  const e2 = await sendError(discord, { webhookUrl: `${dc.origin}/api/webhooks/999/good-token` });
  assert.equal(e2.field, 'webhookUrl');
  assert.match(e2.message, /Unknown Webhook/);
});

test('Discord: 429 with the JSON retry_after (seconds, fractional) is retryable after that long', async () => {
  dc.answers.push((_r, res) => json(res, 429, { message: 'You are being rate limited.', retry_after: 1.234, global: false }, { 'retry-after': '2', 'x-ratelimit-scope': 'shared' }));
  const err = await sendError(discord, { webhookUrl: dcUrl });
  assert.equal(err.permanent, false);
  assert.equal(err.retryAfterMs, 1234);
  assert.match(err.message, /rate limiting/);
});

test('Discord: a URL that is not a Discord webhook is refused at the field', async () => {
  const { parseChannelConfig } = await import('../../core/channel-config.js');
  assert.throws(() => parseChannelConfig(discord, { webhookUrl: 'https://discord.com/channels/1/2' }), /webhookUrl: a Discord webhook URL looks like/);
});

// Slack: POST the JSON; "ok" on success, an error word otherwise.
const sl = await fakeService((r, res) => {
  if (r.path === '/services/T000/B000/gone') return text(res, 404, 'no_service');
  if (r.path === '/services/T000/B000/archived') return text(res, 410, 'channel_is_archived');
  if (r.path !== '/services/T000/B000/XXXX') return text(res, 403, 'invalid_token');
  text(res, 200, 'ok');
});
servers.push(sl);

test('Slack: the text is mrkdwn with the title bold, < > & escaped and the link as <url|Open>', async () => {
  await sendWith(slack, { webhookUrl: `${sl.origin}/services/T000/B000/XXXX` });
  const b = JSON.parse(sl.received.at(-1)!.body);
  assert.equal(b.text, '*Build failed*\nmain is red &lt;b&gt;again&lt;/b&gt; &amp; again\n<https://ci.example.org/run/42|Open>');
});

test('Slack: invalid_token (403), no_service (404) and channel_is_archived (410) are permanent at the webhook URL', async () => {
  for (const [p, word] of [['/services/T000/B000/wrong', 'invalid_token'], ['/services/T000/B000/gone', 'no_service'], ['/services/T000/B000/archived', 'channel_is_archived']]) {
    const err = await sendError(slack, { webhookUrl: sl.origin + p });
    assert.equal(err.field, 'webhookUrl', p);
    assert.equal(err.permanent, true);
    assert.match(err.message, new RegExp(word!));
  }
});

test('Slack: 429 with Retry-After is retryable after that long', async () => {
  sl.answers.push((_r, res) => text(res, 429, 'rate_limited', { 'retry-after': '30' }));
  const err = await sendError(slack, { webhookUrl: `${sl.origin}/services/T000/B000/XXXX` });
  assert.equal(err.retryAfterMs, 30_000);
  assert.equal(err.permanent, false);
});

// The generic webhook: any 2xx is success.
const hook = await fakeService((r, res) => (r.headers.authorization === 'Bearer s3cret' ? json(res, 202, {}) : json(res, 401, { error: 'who are you' })));
servers.push(hook);

test('Webhook: the notification as JSON with an Idempotency-Key that is the same on a retry', async () => {
  const n = notification({ idempotencyKey: 'notif-01HX:webhook:ha' });
  await sendWith(webhook, { url: `${hook.origin}/hook`, authorization: 'Bearer s3cret' }, n);
  await sendWith(webhook, { url: `${hook.origin}/hook`, authorization: 'Bearer s3cret', method: 'PUT' }, n);
  const [a, b] = hook.received.slice(-2);
  assert.equal(a!.method, 'POST');
  assert.equal(b!.method, 'PUT');
  assert.equal(a!.headers['idempotency-key'], 'notif-01HX:webhook:ha');
  assert.equal(b!.headers['idempotency-key'], 'notif-01HX:webhook:ha');
  assert.deepEqual(JSON.parse(a!.body), { id: 'n-1', title: 'Build failed', body: 'main is red <b>again</b> & again', url: 'https://ci.example.org/run/42', priority: 'high', kind: 'single', count: 1, at: '2026-12-06T12:00:00.000Z' });
});

test('Webhook: a 401 is blamed on the Authorization header field', async () => {
  const err = await sendError(webhook, { url: `${hook.origin}/hook`, authorization: 'Bearer wrong' });
  assert.equal(err.field, 'authorization');
  assert.equal(err.permanent, true);
});

test('Webhook: 429 with an HTTP-date Retry-After and a 500 are retryable', async () => {
  const at = new Date(Date.now() + 60_000).toUTCString();
  hook.answers.push((_r, res) => json(res, 429, {}, { 'retry-after': at }));
  const e1 = await sendError(webhook, { url: `${hook.origin}/hook`, authorization: 'Bearer s3cret' });
  assert.equal(e1.permanent, false);
  assert.ok(e1.retryAfterMs! > 55_000 && e1.retryAfterMs! <= 60_000, String(e1.retryAfterMs));
  hook.answers.push((_r, res) => json(res, 500, {}));
  assert.equal((await sendError(webhook, { url: `${hook.origin}/hook`, authorization: 'Bearer s3cret' })).permanent, false);
});
