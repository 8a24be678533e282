// Questions to another machine, for real: a desktop engine in this process, an agent as a `panoptes agent` child
// process paired with it (its own key recorded at the desktop, as deploy records it), a real Mosquitto between them.
// "Test now" on a monitor of that machine runs there; its recent events and its monitors' health come back signed by
// it. An agent that does not answer in time, a forged answer meanwhile, and an agent that is offline are each said in
// words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import { answerTopic, askTopic } from '../../engine/fleet/wire.js';
import { waitFor } from '../helpers/tmp.js';
import { mosquittoAvailable } from '../helpers/mosquitto.js';
import { pairedFleet } from './helpers.js';

const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';

test('questions to an agent over the broker: Test now runs there, recent events and health come back signed; no answer in time, a forged answer and an offline agent are said', { skip, timeout: 240_000 }, async (t) => {
  const { broker, desktop, root, agent, a1 } = await pairedFleet(t, {
    prefix: 'panoptes-ask-',
    agentConfig: (root) => {
      writeFileSync(path.join(root, 'app.log'), '');
      writeFileSync(path.join(root, 'try.log'), 'first line\nsecond line\n');
      return { monitors: [{ id: 'log:app', type: 'log', name: 'App log', enabled: true, config: { path: path.join(root, 'app.log') } }] };
    },
  });
  const appLog = path.join(root, 'app.log');
  const tryLog = path.join(root, 'try.log');
  const v = await waitFor(async () => {
    const x = await desktop.request('fleet.get', { agentId: 'a1' }).catch(() => null);
    return x?.paired ? x : null;
  }, 'a1 paired at the desktop', 60_000);
  assert.equal(v.verified, true, "a1's configuration state verified with its key");

  // "Test now" there: a monitor not saved yet, as the form has it.
  const tried = await desktop.request('fleet.testMonitor', { agentId: 'a1', monitor: { type: 'log', config: { path: tryLog, fromBeginning: true } } });
  assert.equal(tried.verified, true);
  assert.deepEqual(tried.events.map((e) => e.title), ['first line', 'second line']);
  // Checked at the desktop first: a monitor type it does not know, a secret that would be sent.
  await assert.rejects(desktop.request('fleet.testMonitor', { agentId: 'a1', monitor: { type: 'nope', config: {} } }), /unknown monitor type/);
  await assert.rejects(desktop.request('fleet.testMonitor', { agentId: 'a1', monitor: { type: 'mail', config: { host: 'mail.example', username: 'me', password: 'hunter2' } } }), /cannot be sent/);
  // A problem there comes back in its words.
  await assert.rejects(desktop.request('fleet.testMonitor', { agentId: 'a1', monitor: { type: 'log', config: {} } }), (err: Error & { code?: string }) => /^a1: /.test(err.message) && err.code === 'invalid');

  // Its recent events: lines appended to the file its monitor watches, made there and read from here.
  await waitFor(async () => (await desktop.request('fleet.health', { agentId: 'a1' })).monitors.find((m) => m.id === 'log:app')?.health.status === 'ok', "a1's monitor running", 60_000);
  appendFileSync(appLog, 'disk almost full\n' + 'x'.repeat(50_000) + '\n');
  const recent = await waitFor(async () => {
    const r = await desktop.request('fleet.events', { agentId: 'a1', limit: 10, source: 'log:app' });
    return r.events.length >= 2 ? r : null;
  }, "a1's new events read from the desktop", 60_000);
  assert.equal(recent.verified, true);
  assert.deepEqual(recent.events.map((e) => e.source), ['log:app', 'log:app']);
  assert.ok(recent.events.some((e) => e.title === 'disk almost full'));
  const health = await desktop.request('fleet.health', { agentId: 'a1' });
  assert.deepEqual(health.monitors.map((m) => [m.id, m.name, m.health.status]), [['log:app', 'App log', 'ok']]);

  // No answer in time (the agent stopped with SIGSTOP: still connected for the broker, silent), and meanwhile an
  // answer forged by a broker user who read the question's id off the wire: refused, said, and not taken.
  const forger = await connectAsync(broker.url, { clientId: 'forger' });
  t.after(() => forger.endAsync());
  forger.on('message', (_topic, payload) => {
    const ask = JSON.parse(Buffer.from((JSON.parse(payload.toString()) as { payload: string }).payload, 'base64').toString()) as { id: string };
    void forger.publishAsync(answerTopic('a1'), JSON.stringify({ v: 1, kind: 'answer', agentId: 'a1', pairing: a1.pairing, id: ask.id, ok: true, result: { monitors: [] }, at: new Date().toISOString() }), { qos: 1 });
  });
  await forger.subscribeAsync(askTopic('a1'), { qos: 1 });
  agent.child.kill('SIGSTOP');
  try {
    await assert.rejects(desktop.request('fleet.health', { agentId: 'a1', timeoutMs: 3_000 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'unavailable');
      assert.match(err.message, /a1 did not answer within 3 s: it may have gone offline, or be busy/);
      assert.match(err.message, /the answer of a1 was refused: it is not signed by a1's key/);
      return true;
    });
  } finally {
    agent.child.kill('SIGCONT');
  }
  await forger.unsubscribeAsync(askTopic('a1'));
  assert.match((await desktop.request('fleet.get', { agentId: 'a1' })).refused!.message, /answer of a1 was refused/);
  // Awake again, it answers.
  assert.equal((await desktop.request('fleet.health', { agentId: 'a1' })).monitors.length, 1);

  // Offline: said at once, nothing asked.
  await agent.stop();
  await waitFor(() => desktop.forwarding.peers.list().find((p) => p.agentId === 'a1')?.state === 'offline', 'a1 offline at the desktop', 30_000);
  await assert.rejects(desktop.request('fleet.testMonitor', { agentId: 'a1', monitor: { type: 'log', config: { path: tryLog } } }), (err: Error & { code?: string }) => err.code === 'unavailable' && /^a1 is offline \(last heard from at .*: stopped\); "Test now" runs on that machine, so try again when it is back$/.test(err.message));
});
