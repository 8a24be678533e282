// The headless secret store (secrets.json, 0600) is written by more than one process: the agent, and
// `panoptes monitor signin` when no agent runs — which waits minutes for the user to enter the device code, so an
// agent can start beside it meanwhile. Each holds a copy read at its start; neither may lose the other's writes (a
// lost rotated refresh token is a sign-in the provider no longer accepts; a lost grant, a sign-in to do again).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { FileSecretStore } from '../../core/secrets.js';
import { tempDir } from '../helpers/tmp.js';

const onDisk = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'secrets.json'), 'utf8')) as Record<string, Record<string, string>>;

test('two stores on one data folder (the offline CLI, an agent that started beside it) keep each other\'s writes', (t) => {
  const dir = tempDir(t);
  new FileSecretStore(dir).set('mail:other', { oauthGrant: 'grant-1' });
  const cli = new FileSecretStore(dir); // loaded, then waits for the user to enter the code
  const agent = new FileSecretStore(dir); // starts meanwhile
  agent.set('mail:other', { oauthGrant: 'grant-2-rotated' }); // a refresh rotated the refresh token
  cli.set('mail:work', { oauthGrant: 'the new sign-in' });
  assert.deepEqual(onDisk(dir), { 'mail:other': { oauthGrant: 'grant-2-rotated' }, 'mail:work': { oauthGrant: 'the new sign-in' } }, 'the CLI kept the agent\'s rotated token');
  agent.set('channel:ntfy', { token: 't' });
  assert.equal(onDisk(dir)['mail:work']?.oauthGrant, 'the new sign-in', 'the agent kept the CLI\'s grant');
  assert.equal(agent.get('mail:work').oauthGrant, 'the new sign-in', 'the agent reads what the CLI wrote');
  agent.delete('mail:other');
  cli.set('mail:work', { password: 'x' });
  assert.equal(onDisk(dir)['mail:other'], undefined, 'a removal by one is not undone by the other');
  assert.equal(statSync(path.join(dir, 'secrets.json')).mode & 0o777, 0o600);
});

test('processes writing the store at the same moment lose nothing (each its own owner, many writes)', async (t) => {
  const dir = tempDir(t);
  const storeModule = new URL('../../core/secrets.js', import.meta.url).href;
  const WRITERS = 4;
  const WRITES = 30;
  // Each child loads the store, says "ready", and writes only once every child is ready: their copies all
  // predate the others' writes, and their writes overlap.
  const script = `
    import { FileSecretStore } from ${JSON.stringify(storeModule)};
    const s = new FileSecretStore(process.argv[1]);
    process.stdout.write('ready\\n');
    process.stdin.once('data', () => {
      for (let i = 0; i < ${WRITES}; i++) s.set('owner-' + process.argv[2], { ['k' + i]: 'v' + i });
      process.exit(0);
    });`;
  const children = Array.from({ length: WRITERS }, (_, n) => spawn(process.execPath, ['--input-type=module', '-e', script, dir, String(n)], { stdio: ['pipe', 'pipe', 'inherit'] }));
  await Promise.all(children.map((c) => new Promise<void>((resolve) => c.stdout.once('data', () => resolve()))));
  const exits = children.map((c) => new Promise<number | null>((resolve) => c.once('exit', resolve)));
  for (const c of children) c.stdin.write('go\n');
  assert.deepEqual(await Promise.all(exits), children.map(() => 0));
  const data = onDisk(dir);
  for (let n = 0; n < WRITERS; n++) assert.equal(Object.keys(data[`owner-${n}`] ?? {}).length, WRITES, `every write of process ${n} is there`);
});
