import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startAgent } from '../helpers/agent-process.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { openStore } from '../../core/store/index.js';

const SECRET = 'a-long-enough-hook-secret';

test('the agent receives webhooks at /hooks/<id>: right secret → stored event, wrong secret → 401 and nothing stored', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ monitors: [{ id: 'webhook:ci', type: 'webhook', name: 'CI', config: { hookId: 'ci' } }] }));
  writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ 'webhook:ci': { secret: SECRET } }), { mode: 0o600 });
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const hook = `${agent.origin}/hooks/ci`;

  const post = (headers: Record<string, string>, body: string) => fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  // The hook registers when the monitor has started.
  await waitFor(async () => (await post({ 'x-panoptes-secret': SECRET }, JSON.stringify({ build: 41, status: 'warmup' }))).status === 200, 'hook ready');
  assert.equal((await post({ 'x-panoptes-secret': 'wrong-secret-wrong-secret' }, JSON.stringify({ build: 666 }))).status, 401);
  assert.equal((await post({ authorization: `Bearer ${SECRET}` }, JSON.stringify({ build: 42, status: 'failed' }))).status, 200);
  // An oversized body is refused without being read: the answer is 413, or (when the sender is still writing as the
  // connection closes) a broken pipe on the sender's side. Either way nothing is stored, as checked below.
  const oversized = await post({ 'x-panoptes-secret': SECRET }, 'x'.repeat(2 * 1024 * 1024)).then(
    (r) => r.status,
    (err: Error & { cause?: { code?: string } }) => err.cause?.code ?? err.message,
  );
  assert.ok(oversized === 413 || oversized === 'EPIPE' || oversized === 'ECONNRESET', `oversized body: ${oversized}`);

  const store = openStore(dir);
  t.after(() => store.close());
  const events = await waitFor(() => {
    const e = store.events.list({ type: 'webhook.received' }).events;
    return e.length >= 2 ? e : null;
  }, 'webhook events');
  assert.deepEqual(events.map((e) => e.fields.build).sort(), [41, 42]);
  assert.ok(events.every((e) => e.source === 'webhook:ci'));
});
