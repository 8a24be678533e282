// `npm test`: build, then run every compiled test file with Node's own test runner.
// `npm test -- rss store` runs only the files whose path contains one of the words.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { run } from 'node:test';
import { sturdySpec, wholeTests } from './test-report.mjs';

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
// and the closest to the 5-minute limit: side by side they slowed each other down (three at once at load 20:
// machines-rollback 240 s, deploy/rollback 206 s; deploy.test 226 s with two others in session 11). An order alone
// did not keep them apart (the kept times foretold the run only roughly), so the queue below never starts one while
// another is running: they run one at a time, beside the other files.
const deployKind = (f) => /[\\/]deploy[\\/]|[\\/]e2e[\\/]machines-(deploy|upgrade|rollback)/.test(f);

// Files run side by side, each in its own process: every server a test needs is its own, on a free loopback port,
// with its own temp folders, so files do not share state. Most of a file's time is waiting on those servers and on
// Chromium, so a little more than one file per core keeps the machine busy without starving timers.
// PANOPTES_TEST_CONCURRENCY=1 runs them one at a time (to rule out interference when chasing a failure).
const concurrency = Number(process.env.PANOPTES_TEST_CONCURRENCY) || Math.min(4, availableParallelism() + 1);
const longestFirst = (list) => [...list].sort((a, b) => expected(b) - expected(a) || a.localeCompare(b));

process.chdir(root);
process.env.PANOPTES_ROOT = root;
const started = performance.now();
// One queue, longest first, `concurrency` files at a time, each file a run of its own — and never two deploy files
// at once. (Until session 14 the deploy files had a slot of their own and the others the rest: the deploy files were
// done after ~600 s of a ~1,050 s run, and their slot then stood empty while the others' queue went on two at a time.)
// A file that has not finished after 5 minutes fails (its process is ended) instead of holding the whole run until
// CI's limit.
const queue = longestFirst(files);
// The runs' events, as they come, into one report — with one summary: each run ends with its own counts (nesting 0,
// no file), added up here and said once at the end, with the whole run's wall time as its duration.
const stream = new PassThrough({ objectMode: true });
const SUMMARY = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/;
const totals = new Map();
/** The runs started and not ended yet (`{ file }` each, so a file run again is a new entry). */
const inFlight = new Set();
let finished = false;
function startNext() {
  while (inFlight.size < concurrency) {
    const deployRunning = [...inFlight].some((e) => deployKind(e.file));
    const i = queue.findIndex((f) => !(deployRunning && deployKind(f)));
    if (i < 0) return;
    const [file] = queue.splice(i, 1);
    const entry = { file };
    inFlight.add(entry);
    const r = run({ files: [file], concurrency: 1, timeout: 300_000 });
    const report = wholeTests((event) => stream.write(event));
    r.on('data', (event) => {
      const m = event.type === 'test:diagnostic' && event.data.nesting === 0 && !event.data.file ? SUMMARY.exec(event.data.message) : null;
      if (!m) return void report(event);
      if (m[1] !== 'duration_ms') totals.set(m[1], (totals.get(m[1]) ?? 0) + Number(m[2]));
    });
    r.on('end', () => {
      if (!inFlight.delete(entry)) return; // given up on below and queued again
      report.flush();
      if (queue.length) return startNext();
      if (inFlight.size > 0) return;
      totals.set('duration_ms', performance.now() - started);
      for (const [name, n] of totals) stream.write({ type: 'test:diagnostic', data: { nesting: 0, message: `${name} ${n}` } });
      stream.end();
    });
  }
}
startNext();
// Twice a fresh clone's CI ended without its summary: the report had stopped (a start from another file between a
// test's start and end, see test-report.mjs) and, nothing being left to wait for, the runner's process ended — once
// with exit code 0. Should the loop go quiet like that again, the files whose run never ended are run again (once),
// the ones never started start; and if the run still has not ended, it fails saying so — never a pass with files
// or the summary missing.
let retried = false;
process.on('beforeExit', () => {
  if (finished) return;
  const never = [...[...inFlight].map((e) => e.file), ...queue].map(sourceOf);
  if (!retried && never.length) {
    retried = true;
    console.error(`\nthe test run went quiet before these files reported (running them again): ${never.join(', ')}`);
    for (const e of inFlight) queue.push(e.file);
    inFlight.clear();
    return startNext();
  }
  console.error(
    never.length
      ? `\nthe test run ended before these files reported: ${never.join(', ')}`
      : '\nthe test run ended before its report did: every file ran, the report stopped after the last line above',
  );
  process.exitCode = 1;
});
let failed = false;
const took = new Map();
stream.on('data', ({ type, data: d }) => {
  if (type === 'test:fail' && !d.todo) failed = true;
  // The file's own test (nesting 0, named by its path) completes when its process has ended: its wall time.
  if (type === 'test:complete' && d.nesting === 0 && d.name === d.file) took.set(sourceOf(d.file), d.details.duration_ms / 1000);
});
const out = stream.compose(sturdySpec());
out.pipe(process.stdout);
out.on('end', () => {
  finished = true;
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
