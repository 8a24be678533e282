/**
 * A fresh clone's `npm install` leaves the committed package-lock.json as it is (#17: it once added 345 lines of
 * optional platform packages the committed lock lacked, so every newcomer started with a modified file).
 *
 * npm settles the lock before it installs anything: `--package-lock-only` runs exactly that step on a copy of
 * package.json and the lock, in a few seconds and without touching node_modules. A lock missing entries (platform
 * packages, a dependency added to package.json by hand) is rewritten by it, which this test reports. `.ci/run` also
 * compares the lock before and after its real install.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../helpers/agent-process.js';

test('npm settles package.json on the committed lock without changing it', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-lock-'));
  try {
    for (const f of ['package.json', 'package-lock.json']) copyFileSync(path.join(PROJECT_ROOT, f), path.join(dir, f));
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    // --prefer-offline: a consistent lock needs nothing from the registry; a lock missing entries fetches them.
    const r = spawnSync(npm, ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, `npm install --package-lock-only failed:\n${r.stderr}`);
    const before = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    const after = JSON.parse(readFileSync(path.join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    const added = Object.keys(after.packages).filter((k) => !(k in before.packages));
    const removed = Object.keys(before.packages).filter((k) => !(k in after.packages));
    const changed = Object.keys(after.packages).filter((k) => k in before.packages && JSON.stringify(after.packages[k]) !== JSON.stringify(before.packages[k]));
    assert.deepEqual(
      { added, removed, changed },
      { added: [], removed: [], changed: [] },
      'a fresh `npm install` would rewrite package-lock.json: run `npm install --package-lock-only` and commit the lock',
    );
    assert.equal(readFileSync(path.join(dir, 'package-lock.json'), 'utf8'), readFileSync(path.join(PROJECT_ROOT, 'package-lock.json'), 'utf8'), 'the lock is rewritten (formatting or top-level fields)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
