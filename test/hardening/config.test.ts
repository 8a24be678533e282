// A config file is written by hand: a document nested thousands deep must fall back to the last good copy like any
// other broken file (not end the start with a stack overflow), and keys the app does not know must survive the
// app's next save instead of vanishing silently.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startAgent } from '../helpers/agent-process.js';
import { connectProtocol } from '../helpers/protocol-client.js';
import { tempDir } from '../helpers/tmp.js';
import { writeConfig } from '../forwarding/helpers.js';

/** The agent on `dir` and a protocol client to it, as the UI talks to it; both ended when the test ends. */
async function startAgentWithClient(t: TestContext, dir: string) {
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const client = await connectProtocol(agent);
  t.after(() => client.close());
  return { agent, client };
}

const rule = (id: string) => ({ id, when: { source: 'webhook:*' }, then: [{ notify: { title: '{{ title }}' } }] });

test('a config nested 5,000 deep falls back to the last good copy, and the agent answers', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  writeConfig(dir, { rules: [rule('kept')] });
  const first = await startAgent(dir);
  await first.stop();
  // 5,000 levels in about 10 KB: a condition of nested "not"s.
  const deep = '{"not":'.repeat(5_000) + '{"field":"title","eq":"x"}' + '}'.repeat(5_000);
  writeFileSync(path.join(dir, 'config.json'), `{"rules":[{"id":"deep","if":${deep},"then":[{"notify":{"title":"x"}}]}]}`);
  const { agent, client } = await startAgentWithClient(t, dir);
  const list = await client.call('rules.list', {}, 10_000);
  assert.deepEqual(list.rules.map((r: any) => r.id), ['kept'], 'running on the last good copy');
  assert.match(agent.output(), /nested more than \d+ deep/, 'the log says why the file was not used');
});

test('keys the app does not know, at the top and in a monitor, survive the next save and are reported', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  writeConfig(dir, {
    myNotes: 'written by hand',
    monitors: [{ id: 'webhook:ci', type: 'webhook', name: 'CI', config: {}, comment: 'the build server' }],
    rules: [],
  });
  const { agent, client } = await startAgentWithClient(t, dir);
  await client.call('rules.save', { rule: rule('new') }, 10_000);
  const doc = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  assert.deepEqual(doc.rules.map((r: any) => r.id), ['new'], 'saved');
  assert.equal(doc.myNotes, 'written by hand');
  assert.equal(doc.monitors[0].comment, 'the build server');
  assert.match(agent.output(), /\$\.myNotes/, 'reported');
  assert.match(agent.output(), /\$\.monitors\[0\]\.comment/, 'reported');
});

test('keys the app does not know inside settings and forwarding survive its saves, settings saves too, and are reported', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  writeConfig(dir, {
    // A typo of retentionDays: dropped at the next save, the user would never learn why 30 days did not apply.
    settings: { retentonDays: 30, notifications: { quietHours: { enabled: false, why: 'on call this month' } } },
    forwarding: { forward: { url: 'mqtt://127.0.0.1:1', pasword: 'typo' } },
    rules: [],
  });
  const { agent, client } = await startAgentWithClient(t, dir);
  await client.call('rules.save', { rule: rule('new') }, 10_000);
  await client.call('settings.update', { theme: 'dark' }, 10_000);
  const doc = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  assert.equal(doc.settings.theme, 'dark', 'saved');
  assert.equal(doc.settings.retentonDays, 30);
  assert.equal(doc.settings.notifications.quietHours.why, 'on call this month');
  assert.equal(doc.forwarding.forward.pasword, 'typo');
  for (const p of ['$.settings.retentonDays', '$.settings.notifications.quietHours.why', '$.forwarding.forward.pasword']) {
    assert.ok(agent.output().includes(p), `${p} reported`);
  }
});
