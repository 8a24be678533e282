// Actions run in lanes, one per destination: a destination that never answers holds up only its own lane.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { startTestServer } from '../helpers/http-server.js';

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
