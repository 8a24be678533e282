/**
 * One writer: while an engine runs on a data folder (it says where in `agent.json`), the CLI's changes go through it
 * instead of editing config.json under it; a change prepared from a configuration that has changed since is refused
 * with a message that says so (the revision check); `panoptes tail` follows the running engine's events live.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, startAgent } from '../helpers/agent-process.js';
import { connectProtocol } from '../helpers/protocol-client.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, PANOPTES_LOG: 'warn', ...env }, timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const rule = (id: string, name = id) => ({ id, name, when: { type: 'feed.item' }, then: [{ notify: { title: '{{title}}' } }] });

test('rules import and opml import go through the running engine, which has them at once', async (t) => {
  const dir = tempDir(t);
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const client = await connectProtocol(agent);
  t.after(() => client.close());

  const file = path.join(dir, 'rules.json');
  writeFileSync(file, JSON.stringify([rule('cli-rule', 'From the CLI')]));
  const r = await cli(['rules', 'import', file, '--data', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`imported 1 rule\\(s\\) through the running Panoptes \\(pid ${agent.child.pid}\\)`));
  const { rules } = await client.call('rules.list');
  assert.ok(rules.some((x: { id: string }) => x.id === 'cli-rule'), 'the engine has the rule as soon as the command returns');

  const opml = path.join(dir, 'feeds.opml');
  writeFileSync(opml, `<?xml version="1.0"?><opml version="2.0"><head/><body><outline type="rss" text="Via Engine" xmlUrl="http://127.0.0.1:9/feed.xml"/></body></opml>`);
  const o = await cli(['opml', 'import', opml, '--data', dir]);
  assert.equal(o.code, 0, o.stderr);
  assert.match(o.stdout, /imported 1 feed through the running Panoptes/);
  const monitors = await client.call('monitors.list');
  assert.deepEqual(monitors.map((m: { name: string }) => m.name), ['Via Engine']);
  const again = await cli(['opml', 'import', opml, '--data', dir]);
  assert.match(again.stdout, /imported 0 feeds, 1 already watched/);

  const exported = await cli(['rules', 'export', '--data', dir]);
  assert.ok(JSON.parse(exported.stdout).some((x: { id: string }) => x.id === 'cli-rule'));
});

test('a change prepared from an older revision of the configuration is refused, saying why', async (t) => {
  const dir = tempDir(t);
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const client = await connectProtocol(agent);
  t.after(() => client.close());

  const first = await client.call('rules.list');
  assert.match(first.revision, /^[0-9a-f]{12,}$/);
  // Someone else saves in between (another page, the CLI, an edit of config.json).
  await client.call('rules.save', { rule: rule('theirs') });
  const stale = client.call('rules.replaceAll', { rules: [rule('mine')], ifRevision: first.revision });
  await assert.rejects(stale, (err: Error & { code?: string }) => {
    assert.equal(err.code, 'conflict');
    assert.match(err.message, /configuration changed since/);
    return true;
  });
  const now = await client.call('rules.list');
  assert.ok(now.rules.some((x: { id: string }) => x.id === 'theirs'), 'their change was kept');
  assert.ok(!now.rules.some((x: { id: string }) => x.id === 'mine'));
  assert.notEqual(now.revision, first.revision);
  // From the current revision it goes through.
  await client.call('rules.replaceAll', { rules: [...now.rules, rule('mine')], ifRevision: now.revision });

  // The editor's save of one rule: refused when that rule was changed elsewhere since the editor opened it.
  const opened = (await client.call('rules.list')).rules.find((x: { id: string }) => x.id === 'mine');
  await client.call('rules.save', { rule: { ...opened, name: 'changed by the CLI' } });
  await assert.rejects(client.call('rules.save', { rule: { ...opened, name: 'my edit' }, previous: opened }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'conflict');
    assert.match(err.message, /changed elsewhere since you opened it/);
    return true;
  });
  const kept = (await client.call('rules.list')).rules.find((x: { id: string }) => x.id === 'mine');
  assert.equal(kept.name, 'changed by the CLI');
});

test('panoptes tail follows the running engine live, filtered by source and type', async (t) => {
  const dir = tempDir(t);
  const none = await cli(['tail', '--data', dir]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no Panoptes is running on .*start it with `panoptes agent`/);

  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const client = await connectProtocol(agent);
  t.after(() => client.close());
  const secret = 'a-secret-of-enough-length';
  await client.call('monitors.add', { type: 'webhook', name: 'Deploys', id: 'webhook:deploys', config: { hookId: 'deploys', secret } });
  await client.call('monitors.add', { type: 'webhook', name: 'Other', id: 'webhook:other', config: { hookId: 'other', secret } });

  const child = spawn(process.execPath, [BIN, 'tail', '--source', 'webhook:dep*', '--data', dir], { env: { ...process.env, PANOPTES_LOG: 'warn' } });
  t.after(() => void child.kill());
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  await waitFor(() => /following/.test(out), 'tail to connect', 20_000);
  const post = (hook: string, title: string) =>
    fetch(`${agent.origin}/hooks/${hook}`, { method: 'POST', headers: { 'x-panoptes-secret': secret, 'content-type': 'application/json' }, body: JSON.stringify({ title }) });
  assert.equal((await post('other', 'not for this tail')).status, 200);
  assert.equal((await post('deploys', 'Deployed v1.2')).status, 200);
  await waitFor(() => /webhook:deploys/.test(out), 'the event in tail', 20_000);
  assert.doesNotMatch(out, /not for this tail/);
  assert.doesNotMatch(out, /\x1b\[/, 'no colour codes when the output is not a terminal');
});
