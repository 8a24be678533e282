// Actions run in lanes, one per destination: a destination that never answers holds up only its own lane.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { startTestServer } from '../helpers/http-server.js';
import type { Method, ParamsOf, ResultOf } from '../../core/protocol.js';

/** A protocol request with its result typed, as a UI page makes it. */
const call = <M extends Method>(engine: Engine, method: M, params: ParamsOf<M>) => engine.request(method, params) as Promise<ResultOf<M>>;

test('a webhook destination that never answers does not delay the notifications of other rules', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  let hung = 0;
  // Accepts the request and never answers (until the test ends and the server closes the socket).
  server.route('/hang', () => void hung++);

  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, startMonitors: false, seedDefaultRules: false });
  t.after(() => engine.close());
  await engine.request('rules.replaceAll', {
    rules: [
      { id: 'to-dead-host', name: 'to a dead host', when: { type: 'deploy.done' }, then: [{ webhook: { url: server.url('/hang'), timeoutMs: 60_000 } }] },
      { id: 'tell-me', name: 'tell me', when: { type: 'door.open' }, then: [{ notify: { title: 'Door {{ fields.n }}' } }] },
    ],
  });

  // A backlog for the dead destination first, then the other rule's events, one every 300 ms.
  for (let i = 0; i < 20; i++) await engine.emit('ci', { type: 'deploy.done', fields: { n: i } });
  await waitFor(() => hung > 0, 'the dead destination got a request');
  const delays: number[] = [];
  for (let n = 0; n < 5; n++) {
    const sent = Date.now();
    await engine.emit('door', { type: 'door.open', fields: { n } });
    await waitFor(() => engine.store.notifications.recent(10).some((x) => x.title === `Door ${n}`), `notification ${n}`, 10_000, 10);
    delays.push(Date.now() - sent);
    await new Promise((r) => setTimeout(r, 300));
  }
  // A generous bound: one stuck webhook used to hold every other action for its whole timeout.
  assert.ok(Math.max(...delays) < 3_000, `notifications came ${delays.join(', ')} ms after their events`);
});

test('dead letter: a target answering 500 forever ends in the dead-letter list after its retries; Retry delivers once it recovers', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  let healthy = false;
  const keys: string[] = [];
  server.route('/flaky', (req, res) => {
    keys.push(String(req.headers['idempotency-key']));
    res.writeHead(healthy ? 204 : 500).end();
  });
  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, startMonitors: false, seedDefaultRules: false, actionRetry: { baseMs: 20, capMs: 100 } });
  t.after(() => engine.close());
  await engine.request('rules.replaceAll', {
    rules: [
      { id: 'ship-it', name: 'tell the deployer', when: { type: 'build.ok' }, then: [{ webhook: { url: server.url('/flaky'), body: '{"ok": true}' } }] },
      { id: 'watch-failures', name: 'watch failures', when: { type: 'panoptes.action_failed' }, then: [{ notify: { title: 'Action failed: {{ fields.destination }}' } }] },
    ],
  });
  const event = await engine.emit('ci', { type: 'build.ok', title: 'Build 12 passed' });

  const list = await waitFor(async () => {
    const l = await call(engine, 'actions.deadLetters', {});
    return l.items.length ? l : null;
  }, 'the action became a dead letter');
  const [dead] = list.items;
  assert.equal(list.total, 1);
  assert.equal(dead!.ruleId, 'ship-it');
  assert.equal(dead!.ruleName, 'tell the deployer');
  assert.equal(dead!.eventId, event!.id);
  assert.equal(dead!.eventTitle, 'Build 12 passed');
  assert.equal(dead!.destination, `webhook:${new URL(server.origin).host}`);
  assert.match(String(dead!.lastError), /500/);
  assert.equal(dead!.attempts, 6, 'all six attempts were made');
  assert.equal(keys.length, 6);
  assert.equal(new Set(keys).size, 1, 'every attempt carried the same Idempotency-Key');
  assert.equal(keys[0], dead!.idempotencyKey);

  // The destination shows as unhealthy, and the failure is an event another rule acted on.
  const status = await call(engine, 'actions.status', {});
  assert.equal(status.lanes.find((l) => l.lane === dead!.destination)?.healthy, false);
  assert.equal(status.deadLetters, 1);
  await waitFor(() => engine.store.notifications.recent(10).find((n) => n.title === `Action failed: ${dead!.destination}`), 'the action_failed event fired a rule');

  healthy = true;
  assert.deepEqual(await call(engine, 'actions.retry', { ruleId: dead!.ruleId, eventId: dead!.eventId, actionIndex: dead!.actionIndex }), { retried: true });
  await waitFor(() => keys.length === 7, 'retried');
  await waitFor(() => engine.store.outbox.get(dead!)?.status === 'done', 'delivered');
  assert.equal(keys[6], dead!.idempotencyKey, 'the retry carries the same key');
  assert.equal((await call(engine, 'actions.deadLetters', {})).total, 0);
  assert.equal((await call(engine, 'actions.status', {})).lanes.find((l) => l.lane === dead!.destination)?.healthy, true);
  // Retrying what is no longer a dead letter does nothing.
  assert.deepEqual(await call(engine, 'actions.retry', { ruleId: dead!.ruleId, eventId: dead!.eventId, actionIndex: dead!.actionIndex }), { retried: false });
});

test('dead letter: Discard removes it from the list without running it', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  server.route('/gone', (_req, res) => void res.writeHead(410).end());
  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, startMonitors: false, seedDefaultRules: false });
  t.after(() => engine.close());
  await engine.request('rules.replaceAll', { rules: [{ id: 'r', name: 'r', when: { type: 'x.y' }, then: [{ webhook: { url: server.url('/gone') } }] }] });
  await engine.emit('s', { type: 'x.y' });
  const dead = await waitFor(async () => (await call(engine, 'actions.deadLetters', {})).items[0], 'a 410 is a dead letter at once');
  assert.equal(dead.attempts, 1);
  await assert.rejects(call(engine, 'actions.discard', { ruleId: 'r' } as never), /actionIndex|eventId/);
  assert.deepEqual(await call(engine, 'actions.discard', dead), { discarded: true });
  assert.equal((await call(engine, 'actions.deadLetters', {})).total, 0);
  assert.equal(server.requests.length, 1);
});
