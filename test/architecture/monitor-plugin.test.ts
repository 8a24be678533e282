import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../engine/engine.js';
import { loadMonitorTypes } from '../../engine/monitor-registry.js';
import { startAgentServer } from '../../server/http-server.js';
import { silentLogger } from '../../core/log.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { sent } from '../fixtures/monitor-types/echo/index.js';

test('a monitor type that brings its own action and route is one folder: found, routed and its action registered', async (t) => {
  // The folder is found the way monitors/ is, from a second root: no other file names it.
  const definitions = new Map([...(await loadMonitorTypes(silentLogger)), ...(await loadMonitorTypes(silentLogger, new URL('../fixtures/monitor-types/', import.meta.url)))]);
  assert.ok(definitions.has('echo'));
  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, definitions, seedDefaultRules: false });
  t.after(() => engine.close());
  // Served the way the agent serves monitor routes.
  const server = await startAgentServer({ engine, token: 'x'.repeat(32), port: 0, routes: engine.monitorRoutes().map((r) => r.handle) });
  t.after(() => server.close());
  engine.servesRoutesAt(server.url);

  const info = (await engine.request('monitors.types', {})).find((m) => m.type === 'echo')!;
  assert.equal(info.badge, 'ECHO');
  assert.deepEqual(info.routes, [{ describe: 'POST /echo/<monitor id>', url: server.url.replace(/\/$/, '') + '/echo/', problem: null }]);

  const added = await engine.request('monitors.add', { type: 'echo', name: 'Loud', config: { token: 'the-token' } });
  const res = await waitFor(async () => {
    const r = await fetch(`${info.routes[0]!.url}${encodeURIComponent(added.id)}`, { method: 'POST', body: 'hello there' });
    return r.status === 200 ? r : null;
  }, 'the route answers once the monitor runs');
  assert.equal(await res.text(), 'ok');
  const heard = await waitFor(() => engine.store.events.list({ type: 'echo.heard' }).events[0], 'the event');
  assert.equal(heard.fields.text, 'hello there');
  assert.equal(heard.source, added.id);

  // Its action sends through the echo monitor the user set up, with that monitor's secret.
  const executor = engine.executors.get('echo');
  assert.ok(executor, 'the echo action is registered with the outbox');
  await executor.run({ echo: { text: 'ping' } }, { ruleId: 'r', eventId: heard.id, actionIndex: 0, idempotencyKey: 'k', signal: new AbortController().signal });
  assert.deepEqual(sent, [{ account: added.id, token: 'the-token', text: 'ping' }]);
});
