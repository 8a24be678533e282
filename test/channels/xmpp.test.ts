// The XMPP channel against a real Prosody (Debian's, on loopback, started by the harness): the notification
// arrives at a second account's client as a chat message with the idempotency key as its id; a wrong password is
// a permanent error at the password field; no server is a retryable one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { client, xml, type XmlElement, type XmppClient } from '@xmpp/client';
import xmppChannel from '../../channels/xmpp/index.js';
import { channelFromUrl } from '../../channels/registry.js';
import { startProsody, type XmppServer } from '../helpers/prosody.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/tmp.js';
import { notification, sendError, sendWith } from '../helpers/channel-harness.js';

let server: XmppServer;
let me: XmppClient;
const received: XmlElement[] = [];

before(async () => {
  server = await startProsody({ users: { panoptes: 'bot-pass', me: 'my-pass' } });
  me = client({ service: `xmpp://127.0.0.1:${server.port}`, domain: server.domain, username: 'me', password: 'my-pass', resource: 'phone' });
  me.reconnect.stop();
  me.on('error', () => {});
  me.on('stanza', (s) => {
    if (s.is('message')) received.push(s);
  });
  await me.start();
  await me.send(xml('presence'));
});

after(async () => {
  await me?.stop().catch(() => {});
  await server?.close();
});

const config = () => ({ jid: `panoptes@${server.domain}`, password: 'bot-pass', to: `me@${server.domain}`, server: `127.0.0.1:${server.port}` });

test('XMPP: the notification arrives at the recipient\'s client as a chat message, id = idempotency key', async () => {
  await sendWith(xmppChannel, config(), notification({ idempotencyKey: 'notif-01HX:xmpp:me' }));
  const msg = await waitFor(() => received.find((s) => s.attrs.id === 'notif-01HX:xmpp:me'), 'the message at the second account', 15_000);
  assert.equal(msg.attrs.type, 'chat');
  assert.match(msg.attrs.from!, /^panoptes@localhost\//);
  assert.equal(msg.getChildText('body'), 'Build failed\nmain is red <b>again</b> & again\nhttps://ci.example.org/run/42');
});

test('XMPP: a wrong password is a permanent error at the password field', async () => {
  const err = await sendError(xmppChannel, { ...config(), password: 'wrong' });
  assert.equal(err.permanent, true);
  assert.equal(err.field, 'password');
  assert.match(err.message, /did not accept the account and password/);
});

test('XMPP: no server listening is a retryable error', async () => {
  const err = await sendError(xmppChannel, { ...config(), server: `127.0.0.1:${await freePort()}` });
  assert.equal(err.permanent, false);
  assert.match(err.message, /connection refused/);
});

test('XMPP: xmpp:// URLs give the account, password, recipient and server', () => {
  assert.deepEqual(channelFromUrl('xmpp://panoptes:pw@127.0.0.1:5222/me@localhost'), { type: 'xmpp', config: { jid: 'panoptes@127.0.0.1', password: 'pw', to: 'me@localhost', server: '127.0.0.1:5222' } });
  assert.deepEqual(channelFromUrl('xmpps://panoptes%40example.org:pw@example.org/me@example.org'), { type: 'xmpp', config: { jid: 'panoptes@example.org', password: 'pw', to: 'me@example.org', directTls: true } });
  assert.throws(() => channelFromUrl('xmpp://panoptes@example.org/me@example.org'), /no password/);
});
