import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { BIN } from '../helpers/agent-process.js';
import { tempDir } from '../helpers/tmp.js';

// The log monitor's help says "at least 250ms"; `1ms` used to be accepted (and quietly raised at run time).
test('"Check every" below the minimum its help states is refused at the field, with the minimum', (t) => {
  const dir = tempDir(t);
  writeFileSync(`${dir}/app.log`, 'started\n');
  const run = (interval: string) =>
    spawnSync(process.execPath, [BIN, 'monitor', 'test', 'log', '--data', dir, '--config', JSON.stringify({ path: `${dir}/app.log`, pollInterval: interval })], { encoding: 'utf8' });
  const refused = run('1ms');
  assert.equal(refused.status, 2, refused.stdout + refused.stderr);
  assert.match(refused.stderr, /pollInterval/);
  assert.match(refused.stderr, /at least 250ms/);
  const ok = run('250ms');
  assert.equal(ok.status, 0, ok.stderr);
});
