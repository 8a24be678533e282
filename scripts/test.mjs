// `npm test`: build, then run every compiled test file with Node's own test runner.
// `npm test -- rss store` runs only the files whose path contains one of the words.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));

if (!process.env.PANOPTES_SKIP_BUILD) {
  const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = walk(path.join(root, 'dist', 'test'))
  .filter((f) => !filters.length || filters.some((w) => path.relative(root, f).includes(w)))
  .sort();
if (!files.length) {
  console.error('no test files matched');
  process.exit(1);
}
// Files run side by side, each in its own process: every server a test needs is its own, on a free loopback port,
// with its own temp folders, so files do not share state. Most of a file's time is waiting on those servers and on
// Chromium, so a little more than one file per core keeps the machine busy without starving timers.
// PANOPTES_TEST_CONCURRENCY=1 runs them one at a time (to rule out interference when chasing a failure).
const concurrency = Number(process.env.PANOPTES_TEST_CONCURRENCY) || Math.min(4, availableParallelism() + 1);
// The long browser and process tests start first so the short ones fill the gaps instead of leaving a long tail.
const slow = (f) => /[\\/](e2e|forwarding|cli|deploy)[\\/]|engine-shell|desktop-settings/.test(f);
files.sort((a, b) => Number(slow(b)) - Number(slow(a)));
// A test or hook that never settles fails after 5 minutes instead of holding the whole run until CI's limit; tests
// that know their length set their own timeout.
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PANOPTES_ROOT: root },
});
process.exit(r.status ?? 1);
