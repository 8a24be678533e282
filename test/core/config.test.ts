import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigStore } from '../../core/config/config-store.js';
import { FileSecretStore } from '../../core/secrets.js';
import { silentLogger } from '../../core/log.js';
import { tempDir } from '../helpers/tmp.js';
import { carryUnknownKeys } from '../../core/config/unknown-keys.js';
import { forwardingSchema } from '../../core/config/schema.js';

test('a new data folder gets a readable config document with defaults', async (t) => {
  const dir = tempDir(t);
  const c = await ConfigStore.open(dir, silentLogger);
  const text = readFileSync(path.join(dir, 'config.json'), 'utf8');
  assert.match(text, /\n  "monitors": \[\]/, 'pretty-printed for hand editing');
  assert.equal(c.current.settings.commandsEnabled, false, 'commands are off until the user turns them on');
});

test('a hand-broken config is reported with file, line and problem; the last good copy keeps the user\'s rules', async (t) => {
  const dir = tempDir(t);
  const c = await ConfigStore.open(dir, silentLogger);
  await c.update((d) => void d.rules.push({ id: 'keep-me', then: [] } as never));
  const file = path.join(dir, 'config.json');
  const broken = readFileSync(file, 'utf8').replace('"keep-me"', '"keep-me",,');
  writeFileSync(file, broken);
  const c2 = await ConfigStore.open(dir, silentLogger);
  assert.ok(c2.loadError);
  assert.equal(c2.loadError!.file, file);
  const line = broken.split('\n').findIndex((l) => l.includes(',,')) + 1;
  assert.equal(c2.loadError!.line, line);
  assert.match(c2.loadError!.message, /not valid JSON/);
  assert.deepEqual(c2.current.rules.map((r) => r.id), ['keep-me']);
  assert.equal(readFileSync(file, 'utf8'), broken, 'the broken file is not overwritten on load');
  await c2.update((d) => void (d.settings.retentionDays = 30));
  assert.ok(readdirSync(dir).some((f) => f.startsWith('config.json.broken-')), 'set aside, not lost, when the app saves');
});

test('a schema problem points at the offending line', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'config.json');
  writeFileSync(file, '{\n  "monitors": [\n    { "id": "bad id", "type": "rss", "name": "x" }\n  ]\n}\n');
  const c = await ConfigStore.open(dir, silentLogger);
  assert.equal(c.loadError?.line, 3);
  assert.match(c.loadError!.problem, /\$\.monitors\[0\]\.id/);
});

test('an invalid change is refused and nothing is written', async (t) => {
  const dir = tempDir(t);
  const c = await ConfigStore.open(dir, silentLogger);
  const before = readFileSync(path.join(dir, 'config.json'), 'utf8');
  await assert.rejects(c.update((d) => void (d.settings.retentionDays = -1)), /retentionDays/);
  assert.equal(readFileSync(path.join(dir, 'config.json'), 'utf8'), before);
});

test('secrets live in a 0600 file, never in the config document', async (t) => {
  const dir = tempDir(t);
  const s = new FileSecretStore(dir);
  s.set('imap:work', { password: 'hunter2' });
  assert.equal((statSync(s.file).mode & 0o777).toString(8), '600');
  assert.equal(new FileSecretStore(dir).get('imap:work').password, 'hunter2');
});

test('writers that each hold an older copy never lose one another\'s changes (the CLI and the engine at once)', async (t) => {
  const dir = tempDir(t);
  const engine = await ConfigStore.open(dir, silentLogger);
  const cli = await ConfigStore.open(dir, silentLogger);
  const rss = (id: string) => ({ id: `rss:${id}`, type: 'rss', name: id, enabled: true, config: { url: `http://127.0.0.1/${id}` } });
  // Interleaved: each store changes the file after the other has loaded it.
  await Promise.all(
    Array.from({ length: 20 }, (_, i) => (i % 2 ? engine : cli).update((d) => void d.monitors.push(rss(`m${i}`) as (typeof d.monitors)[number]))),
  );
  await engine.update((d) => void (d.settings.retentionDays = 9));
  const onDisk = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  assert.equal(onDisk.monitors.length, 20);
  assert.equal(onDisk.settings.retentionDays, 9);
  assert.equal(engine.current.monitors.length, 20, 'the engine took in the other writer\'s monitors before saving');
  assert.ok(!readdirSync(dir).some((f) => f.endsWith('.lock')), 'the lock is released');
});

test('a section replaced by a form keeps the keys written by hand that Panoptes does not know, and only those', () => {
  const previous = JSON.parse('{"forward":{"url":"mqtt://a","pasword":"typo","keepaliveSeconds":30},"note":"mine","__proto__":"a key","subscribe":[]}');
  // The form saved forwarding without keepaliveSeconds (a known key it meant to clear) and with another broker.
  const next: Record<string, any> = { forward: { url: 'mqtt://b' }, subscribe: [] };
  carryUnknownKeys(previous, next, (v) => forwardingSchema.parse(v));
  assert.deepEqual(Object.keys(next).sort(), ['__proto__', 'forward', 'note', 'subscribe']);
  assert.equal(Object.getPrototypeOf(next), Object.prototype, '__proto__ stays a key');
  assert.deepEqual(next.forward, { url: 'mqtt://b', pasword: 'typo' }, 'the unknown key is carried; the known one left out stays out');
  // Forwarding turned off: nothing of the old broker comes back.
  const off: Record<string, any> = { subscribe: [] };
  carryUnknownKeys(previous, off, (v) => forwardingSchema.parse(v));
  assert.equal(off.forward, undefined);
});
