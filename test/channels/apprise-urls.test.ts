// Apprise-style URLs as a shorthand when adding a channel: each scheme becomes that type's config (secrets
// included), and anything wrong — an unknown scheme, a missing token or chat — is a message at the URL field
// that says what is missing and how to write it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelFromUrl, channelTypes } from '../../channels/registry.js';
import { ChannelError } from '../../core/notification-channel.js';
import { parseChannelConfig } from '../../core/channel-config.js';

function parsed(url: string) {
  const { type, config } = channelFromUrl(url);
  // Every URL that parses gives a config its type accepts.
  parseChannelConfig(channelTypes().get(type)!, config);
  return { type, config };
}

function refused(url: string): ChannelError {
  try {
    channelFromUrl(url);
  } catch (err) {
    assert.ok(err instanceof ChannelError, String(err));
    assert.equal(err.field, 'url');
    return err;
  }
  throw new Error(`${url} was accepted`);
}

test('ntfy URLs: ntfys://host/topic, ntfy://topic on ntfy.sh, a token or user:password before the host', () => {
  assert.deepEqual(parsed('ntfys://ntfy.example.org/phone'), { type: 'ntfy', config: { server: 'https://ntfy.example.org', topic: 'phone' } });
  assert.deepEqual(parsed('ntfy://phone-alerts'), { type: 'ntfy', config: { server: 'https://ntfy.sh', topic: 'phone-alerts' } });
  assert.deepEqual(parsed('ntfys://tk_abc@ntfy.example.org/phone'), { type: 'ntfy', config: { server: 'https://ntfy.example.org', topic: 'phone', token: 'tk_abc' } });
  assert.deepEqual(parsed('ntfy://phil:p%40ss@127.0.0.1:8080/phone'), { type: 'ntfy', config: { server: 'http://127.0.0.1:8080', topic: 'phone', username: 'phil', password: 'p@ss' } });
});

test('the other schemes: gotify, pover, tgram, matrix, discord, slack, json', () => {
  assert.deepEqual(parsed('gotifys://gotify.example.org/AbCdEf123'), { type: 'gotify', config: { server: 'https://gotify.example.org', token: 'AbCdEf123' } });
  assert.deepEqual(parsed('pover://uQiRzpo4DXghDmr9QzzfQu27cmVRsG@azGDORePK8gMaC0QOYAMyEEuzJnyUi/pixel'), { type: 'pushover', config: { userKey: 'uQiRzpo4DXghDmr9QzzfQu27cmVRsG', token: 'azGDORePK8gMaC0QOYAMyEEuzJnyUi', device: 'pixel' } });
  assert.deepEqual(parsed('tgram://123456789:AAEhBP0av28bMKd0S7Yc-FgwK2nA3T2FXvQ/-1001234567'), { type: 'telegram', config: { botToken: '123456789:AAEhBP0av28bMKd0S7Yc-FgwK2nA3T2FXvQ', chatId: '-1001234567' } });
  assert.deepEqual(parsed('matrixs://syt_token@matrix.example.org/!room:example.org'), { type: 'matrix', config: { homeserver: 'https://matrix.example.org', accessToken: 'syt_token', room: '!room:example.org' } });
  assert.deepEqual(parsed('discord://1122334455/abc-DEF_123'), { type: 'discord', config: { webhookUrl: 'https://discord.com/api/webhooks/1122334455/abc-DEF_123' } });
  assert.deepEqual(parsed('slack://T000/B000/XXXX'), { type: 'slack', config: { webhookUrl: 'https://hooks.slack.com/services/T000/B000/XXXX' } });
  assert.deepEqual(parsed('jsons://user:pw@hooks.example.org/panoptes?x=1'), { type: 'webhook', config: { url: 'https://hooks.example.org/panoptes?x=1', authorization: 'Basic ' + Buffer.from('user:pw').toString('base64') } });
});

test('an unknown scheme names the schemes that exist', () => {
  const err = refused('foo://bar/baz');
  assert.match(err.message, /unknown channel scheme "foo:\/\/"/);
  assert.match(err.message, /ntfy, ntfys, gotify/);
  assert.match(refused('just some text').message, /not a channel URL/);
});

test('a missing token, chat or room says which, and how the URL is written', () => {
  assert.match(refused('tgram://').message, /no bot token; write it like tgram:\/\//);
  assert.match(refused('tgram://123456789:AAEhBP0av28bMKd0S7Yc-FgwK2nA3T2FXvQ').message, /no chat id/);
  assert.match(refused('tgram://12345/42').message, /does not look like 123456789:AAE/);
  assert.match(refused('gotifys://gotify.example.org').message, /no token/);
  assert.match(refused('pover://@token').message, /no user key/);
  assert.match(refused('discord://1122334455').message, /no webhook token/);
  assert.match(refused('slack://T000/B000').message, /no third token/);
  assert.match(refused('matrixs://matrix.example.org/!r:x').message, /no access token/);
  assert.match(refused('matrixs://tok@matrix.example.org').message, /no room/);
});
