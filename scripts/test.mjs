// `npm test`: build, then run every compiled test file with Node's own test runner.
// `npm test -- rss store` runs only the files whose path contains one of the words.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

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

/** A compiled file's source, as test/durations.json names it: dist/test/e2e/ui.test.js → test/e2e/ui.test.ts. */
const sourceOf = (file) => path.relative(path.join(root, 'dist'), file).split(path.sep).join('/').replace(/\.js$/, '.ts');

const files = walk(path.join(root, 'dist', 'test')).filter((f) => !filters.length || filters.some((w) => path.relative(root, f).includes(w)));
if (!files.length) {
  console.error('no test files matched');
  process.exit(1);
}

// Longest first, so that the short files fill the gaps at the end instead of one long file starting last and
// running alone (`node --test` on the command line sorts its files by name, whatever order they are given in, so
// the files are handed to run() in the order wanted). The lengths are a run's, kept in test/durations.json
// (PANOPTES_TEST_DURATIONS=write refreshes them from a run); a file not listed yet counts as a typical one of its
// kind: browser and process tests as long, the rest as short.
const durationsFile = path.join(root, 'test', 'durations.json');
const known = existsSync(durationsFile) ? JSON.parse(readFileSync(durationsFile, 'utf8')) : {};
const slowKind = (f) => /[\\/](e2e|forwarding|cli|deploy)[\\/]|engine-shell|desktop-settings/.test(f);
const expected = (f) => known[sourceOf(f)] ?? (slowKind(f) ? 15 : 2);
// The deploy files (an sshd, an agent installed over it from a 25 MB build, a broker, often Chromium) are the longest
// and the closest to the 5-minute limit; by name they all came together (three at once in a full run at load 20:
// machines-rollback 240 s, deploy/rollback 206 s) and slowed each other down. So one at a time, as far as the kept
// times foretell, with the other long files beside them: the order below is what a pool of `concurrency` slots would
// start, taking the longest file whose kind has room when a slot frees (run() starts files in the order given).
const deployKind = (f) => /[\\/]deploy[\\/]|[\\/]e2e[\\/]machines-(deploy|upgrade|rollback)/.test(f);

// Files run side by side, each in its own process: every server a test needs is its own, on a free loopback port,
// with its own temp folders, so files do not share state. Most of a file's time is waiting on those servers and on
// Chromium, so a little more than one file per core keeps the machine busy without starving timers.
// PANOPTES_TEST_CONCURRENCY=1 runs them one at a time (to rule out interference when chasing a failure).
const concurrency = Number(process.env.PANOPTES_TEST_CONCURRENCY) || Math.min(4, availableParallelism() + 1);

function schedule(all) {
  const waiting = [...all].sort((a, b) => expected(b) - expected(a) || a.localeCompare(b));
  const running = []; // { end, deploy }
  const order = [];
  let now = 0;
  while (waiting.length) {
    if (running.length < concurrency) {
      const deploys = running.filter((r) => r.deploy).length;
      const i = waiting.findIndex((f) => !deployKind(f) || deploys < 1);
      if (i >= 0) {
        const [f] = waiting.splice(i, 1);
        order.push(f);
        running.push({ end: now + expected(f), deploy: deployKind(f) });
        continue;
      }
    }
    // No room (or only deploy files left while one runs): the next slot frees when the earliest running file ends.
    running.sort((a, b) => a.end - b.end);
    now = running.shift().end;
  }
  return order;
}

process.chdir(root);
process.env.PANOPTES_ROOT = root;
// A file that has not finished after 5 minutes fails (its process is ended) instead of holding the whole run until
// CI's limit.
const stream = run({ files: schedule(files), concurrency, timeout: 300_000 });
let failed = false;
const took = new Map();
stream.on('test:fail', (d) => {
  if (!d.todo) failed = true;
});
// The file's own test (nesting 0, named by its path) completes when its process has ended: its wall time.
stream.on('test:complete', (d) => {
  if (d.nesting === 0 && d.name === d.file) took.set(sourceOf(d.file), d.details.duration_ms / 1000);
});
const out = stream.compose(new spec());
out.pipe(process.stdout);
out.on('end', () => {
  const longest = [...took].sort((a, b) => b[1] - a[1]).slice(0, 12);
  console.log(`\nlongest files (wall time, ${concurrency} at a time):`);
  for (const [f, s] of longest) console.log(`  ${s.toFixed(1).padStart(6)} s  ${f}`);
  if (process.env.PANOPTES_TEST_DURATIONS === 'write') {
    // A whole run replaces the list (files gone are dropped); a run of some files updates theirs.
    const all = filters.length ? { ...known } : {};
    for (const [f, s] of took) all[f] = Math.round(s * 10) / 10;
    const sorted = Object.fromEntries(Object.entries(all).sort((a, b) => a[0].localeCompare(b[0])));
    writeFileSync(durationsFile, JSON.stringify(sorted, null, 1) + '\n');
    console.log(`wrote ${took.size} files' times to ${path.relative(root, durationsFile)}`);
  }
  process.exitCode = failed ? 1 : 0;
});
