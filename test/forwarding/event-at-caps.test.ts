// An event may hold up to EVENT_LIMITS (core/event.ts): a 200,000-character body and 1 MiB of fields, counted in
// characters. Forwarded as JSON in UTF-8 such an event takes several MiB (a '€' is 3 bytes, a control character
// 6 as "\u0001"), and a forwarded message over the receiver's limit was dropped: the event was lost for the desktop.
// Every event the agent may store must arrive, whole as stored, and the ones behind it too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_LIMITS } from '../../core/event.js';
import { newId } from '../../core/ids.js';
import { waitFor } from '../helpers/tmp.js';
import { mosquittoAvailable, startMosquitto } from '../helpers/mosquitto.js';
import { AGENT, logOf, pair } from './helpers.js';

const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';
const fromAgent = (e: { origin?: { agentId: string } }) => e.origin?.agentId === AGENT;

test('an event at the size caps (in its costliest characters) is forwarded whole, and the events behind it follow', { skip, timeout: 120_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.close());
  const { agent, desktop } = await pair(t, broker);

  const big = await agent.emit('test:gen', {
    type: 'test.big',
    title: '€'.repeat(EVENT_LIMITS.title * 2),
    body: '\u0001€'.repeat(EVENT_LIMITS.body),
    fields: { euro: '€'.repeat(EVENT_LIMITS.field), ctrl: '\u0002'.repeat(EVENT_LIMITS.field), n: 1 },
    tags: Array.from({ length: EVENT_LIMITS.tags }, (_, i) => `${i}`.padEnd(EVENT_LIMITS.tag, '€')),
  });
  assert.ok(big);
  const wire = Buffer.byteLength(JSON.stringify(big));
  t.diagnostic(`the capped event takes ${wire.toLocaleString('en')} bytes as JSON`);
  assert.ok(wire > 2 * 1024 * 1024, `the event is at the caps in its costliest form (${wire} bytes)`);
  await agent.emit('test:gen', { type: 'test.tick', title: 'after the big one' });

  await waitFor(() => desktop.store.events.count({ type: 'test.tick' }) === 1, 'the event behind the big one', 60_000);
  const got = logOf(desktop.store, fromAgent).map((e) => e.id);
  const tick = logOf(agent.store, (e) => e.type === 'test.tick')[0]!;
  assert.deepEqual(got.filter((id) => id === big.id || id === tick.id), [big.id, tick.id], 'both arrived, in order');
  const d = desktop.store.events.get(big.id)!;
  assert.equal(d.title, big.title);
  assert.equal(d.body, big.body);
  assert.deepEqual(d.fields, big.fields);
  assert.deepEqual(d.tags, big.tags);
  assert.equal(desktop.forwarding.status().receivers[0]?.rejected, 0, 'nothing refused');
});

test('an event stored before the caps existed (over any message limit) arrives cut to the caps, saying so', { skip, timeout: 120_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.close());
  const { agent, desktop } = await pair(t, broker);

  // Straight into the log, as an older version stored it: 20 million characters of body.
  const at = new Date().toISOString();
  const old = { id: newId(), ts: at, receivedAt: at, source: 'test:gen', type: 'test.old', title: 'old', body: 'x'.repeat(20_000_000), url: null, fields: { n: 2 }, tags: [] };
  agent.store.tx(() => agent.store.events.append([old]));
  await agent.emit('test:gen', { type: 'test.tick', title: 'after the old one' });

  await waitFor(() => desktop.store.events.count({ type: 'test.tick' }) === 1, 'the event behind the old one', 60_000);
  const d = desktop.store.events.get(old.id);
  assert.ok(d, 'the old event arrived');
  assert.equal(d.body, `${'x'.repeat(EVENT_LIMITS.body)}… [cut: 20,000,000 characters in all]`);
  assert.deepEqual(d.fields, { n: 2 });
});
