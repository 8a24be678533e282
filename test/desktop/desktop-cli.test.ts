/**
 * One writer on the desktop too: while the desktop app's engine runs on a data folder (started as the desktop shell
 * starts it), the CLI's changes go through that engine, exactly as with the headless agent, instead of editing
 * config.json under it. The engine publishes where it listens (agent.json + the token) whatever process hosts it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { BIN } from '../helpers/agent-process.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { startDesktopEngine } from './desktop-engine.js';

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, PANOPTES_LOG: 'warn' }, timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the CLI goes through the desktop engine: rules import, opml import and tail', async (t) => {
  const dir = tempDir(t);
  const desktop = await startDesktopEngine(t, dir);
  const info = path.join(dir, 'agent.json');
  assert.ok(existsSync(info), 'the desktop engine says where it listens');
  assert.equal(statSync(info).mode & 0o777, 0o600);
  const published = JSON.parse(readFileSync(info, 'utf8')) as { pid: number; port: number };
  assert.equal(published.pid, process.pid, 'named by the process that hosts the engine');
  // The same guard as the agent's: no token, no protocol.
  const refused = await new Promise<string>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${published.port}/ws`, ['panoptes.v1']);
    ws.once('open', () => (ws.close(), resolve('open')));
    ws.once('error', (err) => resolve(err.message));
  });
  assert.match(refused, /401/);

  const file = path.join(dir, 'rules.json');
  writeFileSync(file, JSON.stringify([{ id: 'cli-rule', name: 'From the CLI', when: { type: 'feed.item' }, then: [{ notify: { title: '{{title}}' } }] }]));
  const r = await cli(['rules', 'import', file, '--data', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`imported 1 rule\\(s\\) through the running Panoptes \\(pid ${process.pid}\\)`));
  const { rules } = await desktop.client.call('rules.list', {});
  assert.ok((rules as { id: string }[]).some((x) => x.id === 'cli-rule'), 'the engine has the rule as soon as the command returns');

  const opml = path.join(dir, 'feeds.opml');
  writeFileSync(opml, `<?xml version="1.0"?><opml version="2.0"><head/><body><outline type="rss" text="Via Desktop" xmlUrl="http://127.0.0.1:9/feed.xml"/></body></opml>`);
  const o = await cli(['opml', 'import', opml, '--data', dir]);
  assert.equal(o.code, 0, o.stderr);
  assert.match(o.stdout, /imported 1 feed through the running Panoptes/);
  assert.deepEqual((await desktop.client.call('monitors.list', {})).map((m) => m.name), ['Via Desktop']);

  // tail follows the desktop engine's events live.
  const child = spawn(process.execPath, [BIN, 'tail', '--type', 'shell.*', '--data', dir], { env: { ...process.env, PANOPTES_LOG: 'warn' } });
  t.after(() => void child.kill());
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  await waitFor(() => /following/.test(out), 'tail to connect', 20_000);
  desktop.emit('shell:test', { type: 'shell.locked', title: 'seen by tail' });
  await waitFor(() => /seen by tail/.test(out), 'the event in tail', 20_000);

  await desktop.stop();
  assert.ok(!existsSync(info), 'a clean stop takes agent.json away, so the CLI edits config.json again');
});
