import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startAgent } from '../helpers/agent-process.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { openStore } from '../../core/store/index.js';
import { connectTo } from '../helpers/ws-client.js';

const SECRET = 'a-long-enough-hook-secret';

function summaries(dir: string): { title: string; count: number; ui_pending: number }[] {
  const store = openStore(dir);
  try {
    return store.db.prepare(`SELECT title, count, ui_pending FROM notices WHERE kind = 'summary'`).all() as never;
  } finally {
    store.close();
  }
}

test('a hold across a SIGKILL of the agent gives exactly one summary after restart, seen once by the next page', async (t) => {
  const dir = tempDir(t);
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      monitors: [{ id: 'webhook:ci', type: 'webhook', name: 'CI', config: { hookId: 'ci' } }],
      rules: [{ id: 'builds', name: 'Build results', when: { type: 'webhook.received' }, then: [{ notify: { title: 'Build {{ fields.build }}' } }] }],
      settings: { notifications: { holdDuringFlags: ['dnd'] } },
    }),
  );
  writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ 'webhook:ci': { secret: SECRET } }), { mode: 0o600 });
  // Do not disturb is on (for an hour) when the agent starts.
  const seed = openStore(dir);
  seed.flags.upsert({ name: 'dnd', value: true, setAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 3_600_000).toISOString(), setBy: 'user' });
  seed.close();

  let agent = await startAgent(dir);
  t.after(() => agent.stop());
  const post = (build: number) => fetch(`${agent.origin}/hooks/ci`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-panoptes-secret': SECRET }, body: JSON.stringify({ build }) });
  await waitFor(async () => (await post(1)).status === 200, 'hook ready');
  for (let b = 2; b <= 5; b++) assert.equal((await post(b)).status, 200);
  await waitFor(() => {
    const s = openStore(dir);
    try {
      return s.notifications.countInState('held') === 5;
    } finally {
      s.close();
    }
  }, 'five held notifications');
  agent.child.kill('SIGKILL');
  await new Promise((r) => agent.child.once('exit', r));
  assert.deepEqual(summaries(dir), [], 'nothing released while dnd holds');

  // The hour of do-not-disturb ran out while the agent was down.
  const down = openStore(dir);
  down.db.prepare(`UPDATE flags SET expires_at = ? WHERE name = 'dnd'`).run(new Date(Date.now() - 1000).toISOString());
  down.close();

  agent = await startAgent(dir);
  const [summary] = await waitFor(() => (summaries(dir).length ? summaries(dir) : null), 'the summary after restart');
  assert.equal(summary!.title, '5 held: 5 webhooks');
  assert.equal(summary!.ui_pending, 1, 'no page was open: the next page shows it');

  // Killed again right after releasing, and started once more: still exactly one summary.
  agent.child.kill('SIGKILL');
  await new Promise((r) => agent.child.once('exit', r));
  agent = await startAgent(dir);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(summaries(dir).length, 1);

  // A page that connects now (no cursor yet) gets the summary once; the next new page does not.
  const page = await connectTo(agent);
  t.after(() => page.close());
  const first = (await page.call('notifications.catchUp', { channel: 'ui', cursor: null })) as { items: { title: string }[] };
  assert.deepEqual(first.items.map((i) => i.title), ['5 held: 5 webhooks']);
  const second = (await page.call('notifications.catchUp', { channel: 'ui', cursor: null })) as { items: unknown[] };
  assert.equal(second.items.length, 0);
});
