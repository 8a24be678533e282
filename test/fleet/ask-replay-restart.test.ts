// A question to an agent is answered once: its id is remembered — across a restart of the agent too — for as long as
// the question can be taken at all (10 minutes). Here a broker user captures a signed question ("Ask a1": its recent
// events) off the wire and sends it again after a1 restarted: a1 must not answer it a second time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectAsync } from 'mqtt';
import { answerTopic, askTopic } from '../../engine/fleet/wire.js';
import { waitFor } from '../helpers/tmp.js';
import { mosquittoAvailable } from '../helpers/mosquitto.js';
import { pairedFleet } from './helpers.js';

const skip = mosquittoAvailable() ? false : 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)';

test('a question replayed after the agent restarted is not answered again', { skip, timeout: 240_000 }, async (t) => {
  const f = await pairedFleet(t, { prefix: 'panoptes-ask-replay-' });
  const { broker, desktop } = f;
  await waitFor(async () => (await desktop.request('fleet.get', { agentId: 'a1' }).catch(() => null))?.paired, 'a1 paired at the desktop', 60_000);

  const forger = await connectAsync(broker.url, { clientId: 'forger' });
  t.after(() => forger.endAsync());
  const asks: Buffer[] = [];
  const answers: string[] = [];
  forger.on('message', (topic, payload) => (topic === askTopic('a1') ? asks.push(payload) : answers.push(payload.toString('utf8'))));
  await forger.subscribeAsync({ [askTopic('a1')]: { qos: 1 }, [answerTopic('a1')]: { qos: 1 } });
  await desktop.request('fleet.events', { agentId: 'a1', limit: 5 });
  const captured = await waitFor(() => asks[0] ?? null, 'the question captured', 10_000);
  const id = (JSON.parse(Buffer.from((JSON.parse(captured.toString()) as { payload: string }).payload, 'base64').toString()) as { id: string }).id;
  await waitFor(() => answers.some((a) => a.includes(`"id":"${id}"`)), 'its answer seen', 10_000);

  // a1 restarts (a clean stop and start, same data folder); the captured question is sent again.
  await f.agent.stop();
  await f.startAgent();
  await waitFor(() => desktop.forwarding.peers.list().find((p) => p.agentId === 'a1')?.state === 'online', 'a1 online again', 60_000);
  // Its question client is connected once it answers a fresh question.
  await waitFor(async () => (await desktop.request('fleet.health', { agentId: 'a1', timeoutMs: 5_000 }).catch(() => null)) !== null, 'a1 answering again', 60_000);
  const before = answers.filter((a) => a.includes(`"id":"${id}"`)).length;
  await forger.publishAsync(askTopic('a1'), captured, { qos: 1 });
  // One more fresh question after it: a1 takes questions in order, so once this one is answered the replay was seen.
  await desktop.request('fleet.health', { agentId: 'a1' });
  await waitFor(() => /already answered/.test(f.agent.output()) || answers.filter((a) => a.includes(`"id":"${id}"`)).length > before, 'a1 to ignore (or answer) the replay', 30_000);
  assert.equal(answers.filter((a) => a.includes(`"id":"${id}"`)).length, before, 'the replayed question is not answered again');
  assert.match(f.agent.output(), new RegExp(`ignored question ${id}: already answered`));
});
