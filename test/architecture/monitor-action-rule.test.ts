import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../engine/engine.js';
import { loadMonitorTypes } from '../../engine/monitor-registry.js';
import { silentLogger } from '../../core/log.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { sent } from '../fixtures/monitor-types/echo/index.js';

test("a monitor type's own rule action is usable in a rule with no edit outside its folder: checked, rendered, sent", async (t) => {
  const definitions = new Map([...(await loadMonitorTypes(silentLogger)), ...(await loadMonitorTypes(silentLogger, new URL('../fixtures/monitor-types/', import.meta.url)))]);
  const engine = await Engine.open({ dataDir: tempDir(t), log: silentLogger, definitions, seedDefaultRules: false, startMonitors: false });
  t.after(() => engine.close());
  const echo = await engine.request('monitors.add', { type: 'echo', name: 'Loud', config: { token: 'the-token' } });

  // Checked by the declaration in the echo folder: a missing or misspelt parameter is named like any rule problem.
  const bad = await engine.request('rules.validate', { rule: { id: 'bad', when: { type: 'test.ping' }, then: [{ echo: { txt: 'x' } }] } });
  assert.equal(bad.ok, false);
  assert.ok(bad.errors.some((e) => e.path.startsWith('$.then[0].echo')), JSON.stringify(bad.errors));

  await engine.request('rules.save', { rule: { id: 'say-it', when: { type: 'test.ping' }, then: [{ echo: { text: 'heard {{ title }}' } }] } });
  const before = sent.length;
  await engine.emit('test:src', { type: 'test.ping', title: 'hello' });
  await waitFor(() => sent.length > before, 'the echo action ran');
  assert.deepEqual(sent.at(-1), { account: echo.id, token: 'the-token', text: 'heard hello' });
});
