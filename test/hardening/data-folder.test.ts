// The data folder: files only its owner can read, a database that lost its history refused rather than silently
// started empty, and a write-ahead log cut short reported with what was recovered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { newId } from '../../core/ids.js';
import { openStore } from '../../core/store/index.js';
import type { PanoptesEvent } from '../../core/event.js';
import { startAgent } from '../helpers/agent-process.js';
import { connectProtocol } from '../helpers/protocol-client.js';
import { tempDir } from '../helpers/tmp.js';

const modeOf = (p: string) => (statSync(p).mode & 0o777).toString(8);

function tick(n: number): PanoptesEvent {
  const now = new Date().toISOString();
  return { id: newId(), ts: now, receivedAt: now, source: 'log:app', type: 'test.tick', title: `tick ${n}`, body: 'x'.repeat(500), url: null, fields: { n }, tags: [] };
}

test('every file the agent writes in its data folder is 0600, older 0644 files are tightened, and a folder others can read is reported', { timeout: 60_000 }, async (t) => {
  const root = tempDir(t);
  const dir = path.join(root, 'data');
  const agent = await startAgent(dir);
  const client = await connectProtocol(agent);
  await client.call('rules.save', { rule: { id: 'r', when: { type: 'x' }, then: [{ notify: { title: 't' } }] } });
  client.close();
  await agent.stop();
  const files = readdirSync(dir).filter((f) => statSync(path.join(dir, f)).isFile());
  assert.ok(files.includes('panoptes.db') && files.includes('config.json') && files.includes('config.last-good.json'), files.join(', '));
  assert.deepEqual(files.filter((f) => modeOf(path.join(dir, f)) !== '600').map((f) => `${f} ${modeOf(path.join(dir, f))}`), [], 'all 0600');
  assert.equal(modeOf(dir), '700');

  // A folder from an older version: files 0644, the folder itself opened up to others.
  chmodSync(path.join(dir, 'config.json'), 0o644);
  chmodSync(path.join(dir, 'panoptes.db'), 0o644);
  chmodSync(dir, 0o755);
  const again = await startAgent(dir);
  t.after(() => again.stop());
  assert.equal(modeOf(path.join(dir, 'config.json')), '600');
  assert.equal(modeOf(path.join(dir, 'panoptes.db')), '600');
  assert.match(again.output(), /data folder .* can be read by other users \(mode 755\)[\s\S]*chmod 700/);
  await again.stop();
  for (const f of readdirSync(dir)) if (statSync(path.join(dir, f)).isFile()) assert.equal(modeOf(path.join(dir, f)), '600', f);
});

test('a 0-byte panoptes.db in a folder that was in use is refused with how to recover, and left as it is', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const first = await startAgent(dir);
  await first.stop();
  truncateSync(path.join(dir, 'panoptes.db'), 0);
  for (const ext of ['-wal', '-shm']) writeFileSync(path.join(dir, `panoptes.db${ext}`), '');
  await assert.rejects(startAgent(dir), (err: Error) => {
    assert.match(err.message, /is empty \(0 bytes\), but this data folder was in use before/);
    assert.match(err.message, /restore .*panoptes\.db from a backup/);
    assert.match(err.message, /delete .*panoptes\.db/);
    return true;
  });
  assert.equal(statSync(path.join(dir, 'panoptes.db')).size, 0, 'not overwritten');

  // A new folder (no config yet) starts with an empty database as always.
  const fresh = tempDir(t);
  const agent = await startAgent(fresh);
  await agent.stop();
});

test('a write-ahead log cut short is reported with the frames recovered, and the agent starts on what was committed', { timeout: 60_000 }, async (t) => {
  const root = tempDir(t);
  const live = path.join(root, 'live');
  const crashed = path.join(root, 'crashed');
  mkdirSync(live, { mode: 0o700 });
  mkdirSync(crashed, { mode: 0o700 });
  // An image of a data folder after a crash: the database and its log copied while the writer still had them open.
  const store = openStore(live);
  store.db.pragma('wal_autocheckpoint = 0');
  for (let i = 0; i < 10; i++) store.events.append([tick(i)]);
  writeFileSync(path.join(crashed, 'config.json'), '{}\n');
  copyFileSync(path.join(live, 'panoptes.db'), path.join(crashed, 'panoptes.db'));
  copyFileSync(path.join(live, 'panoptes.db-wal'), path.join(crashed, 'panoptes.db-wal'));
  store.close();
  const wal = path.join(crashed, 'panoptes.db-wal');
  truncateSync(wal, statSync(wal).size - 1000);

  const agent = await startAgent(crashed);
  t.after(() => agent.stop());
  assert.match(agent.output(), /write-ahead log panoptes\.db-wal was cut short .*recovered \d+ of \d+ whole frames/);
  const client = await connectProtocol(agent);
  t.after(() => client.close());
  const page = await client.call('events.list', { type: 'test.tick', limit: 100 });
  assert.ok(page.events.length >= 1 && page.events.length < 10, `the committed ticks before the cut are there (${page.events.length})`);
});
