import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { BIN } from '../helpers/agent-process.js';
import { tempDir } from '../helpers/tmp.js';
import { startTestServer } from '../helpers/http-server.js';
import { rssFeed } from '../helpers/feeds.js';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { freePort } from '../helpers/ports.js';

/** Run the real CLI as a child process (async, so servers in this test process keep answering). */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('unknown commands and flags print usage and exit 2', async () => {
  const a = await cli(['frobnicate']);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /unknown command "frobnicate"/);
  assert.match(a.stderr, /usage: panoptes/);
  const b = await cli(['events', '--colour', 'red']);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /unknown option --colour/);
  assert.equal((await cli(['agent', '--port', 'many'])).code, 2);
});

test('the help names what a fleet needs: agent --forward, deploy to a Host alias, and what pairing is', async () => {
  const top = await cli(['--help']);
  assert.equal(top.code, 0);
  // The way a machine forwards here, listed with the command that does it.
  assert.match(top.stdout, /agent \[--port N\] \[--agent-id NAME\] \[--forward URL\]/);
  const agent = await cli(['agent', '--help']);
  // An agent started by hand with --forward is not paired: its desktop shows it so, and deploy is how to pair one.
  assert.match(agent.stdout + agent.stderr, /not paired with any desktop.*panoptes deploy/s);
  const deploy = await cli(['deploy', '--help']);
  assert.equal(deploy.code, 0);
  assert.match(deploy.stdout, /Host alias of your ssh config/);
  assert.match(deploy.stdout, /pairs it with the desktop of this data folder/);
});

test('monitor test prints what a feed holds now as JSON lines and changes nothing', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  server.route('/f.xml', (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/rss+xml' });
    res.end(rssFeed('CLI feed', [{ guid: '2', title: 'Second', link: 'http://example.test/2' }, { guid: '1', title: 'First', link: 'http://example.test/1' }]));
  });
  const dir = tempDir(t);
  const r = await cli(['monitor', 'test', 'rss', '--config', JSON.stringify({ url: server.url('/f.xml') }), '--data', dir]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((e) => e.title).sort(), ['First', 'Second']);
  assert.ok(lines.every((e) => e.type === 'feed.item' && e.id && e.url));
});

test('monitor test: a bad config names the field, an unreachable source gives one line; both exit 2', async () => {
  const bad = await cli(['monitor', 'test', 'rss', '--config', '{"url":"not a url"}']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /config \$\.url: /);
  const port = await freePort();
  const down = await cli(['monitor', 'test', 'rss', '--config', JSON.stringify({ url: `http://127.0.0.1:${port}/feed` })]);
  assert.equal(down.code, 2);
  assert.match(down.stderr, /connection refused/);
  assert.equal(down.stderr.trim().split('\n').length, 1);
  assert.equal((await cli(['monitor', 'test', 'nosuchtype', '--config', '{}'])).code, 2);
  assert.equal((await cli(['monitor', 'test', 'rss', '--config', '{not json'])).code, 2);
});

test('events lists, searches and filters what the store holds', async (t) => {
  const dir = tempDir(t);
  const engine = await Engine.open({ dataDir: dir, log: silentLogger, startMonitors: false });
  await engine.emit('rss:news', { type: 'feed.item', title: 'Kernel 6.20 released', url: 'http://example.test/k' });
  await engine.emit('mail:work', { type: 'mail.received', title: 'Lunch on Friday?' });
  await engine.close();
  const all = await cli(['events', '--data', dir]);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /Kernel 6\.20 released/);
  assert.match(all.stdout, /Lunch on Friday/);
  const json = await cli(['events', '--search', 'kernel', '--json'], { PANOPTES_DATA: dir });
  const found = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(found.map((e) => e.title), ['Kernel 6.20 released']);
  const bySource = await cli(['events', '--source', 'mail:*', '--json', '--data', dir]);
  assert.deepEqual(bySource.stdout.trim().split('\n').map((l) => JSON.parse(l).source), ['mail:work']);
  assert.equal((await cli(['events', '--since', 'yesterday-ish', '--data', dir])).code, 2);
});

test('npm start without an Electron runtime says so in one line and runs the headless agent', async (t) => {
  const dir = tempDir(t);
  const { startAgent } = await import('../helpers/agent-process.js');
  const { findElectronBinary } = await import('../../electron/runtime.js');
  const { PROJECT_ROOT } = await import('../helpers/agent-process.js');
  if (findElectronBinary(PROJECT_ROOT)) return t.skip('an Electron runtime is installed here; the fallback is not taken');
  const agent = await startAgent(dir, [], 'start');
  t.after(() => agent.stop());
  const first = agent.output().split('\n')[0]!;
  assert.match(first, /desktop shell unavailable .*no Electron runtime.*running headless instead/);
  const res = await fetch(agent.origin + '/');
  assert.equal(res.status, 200);
});
