// `node scripts/rules-ab.mjs <git-ref> [rules…]`: the rules engine at <git-ref> against the working tree's build,
// side by side in one process. Both engines get the same rules and the same freshly parsed events; rounds of 250 ms
// alternate (order swapped every round) and the ratio is taken round by round, so the drift of a shared machine
// moves both alike. This is how a change to the engine is measured before it is kept: a difference below about 5%
// is this machine's noise.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const [ref, ...sizeArgs] = process.argv.slice(2);
if (!ref) {
  console.error('usage: node scripts/rules-ab.mjs <git-ref> [rules…]   (default rules: 10 10000)');
  process.exit(2);
}
const sizes = sizeArgs.length ? sizeArgs.map(Number) : [10, 10_000];
const ROUNDS = 15;

const build = (dir) => {
  const r = spawnSync(process.execPath, [path.join(dir, 'scripts', 'build.mjs'), 'node'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`build failed in ${dir}`);
};

const base = mkdtempSync(path.join(tmpdir(), 'panoptes-ab-'));
try {
  execFileSync('git', ['worktree', 'add', '--detach', base, ref], { cwd: root, stdio: 'ignore' });
  symlinkSync(path.join(root, 'node_modules'), path.join(base, 'node_modules'));
  build(base);
  build(root);
  const load = async (dir) => import(pathToFileURL(path.join(dir, 'dist', 'rules', 'index.js')).href);
  const [A, B] = [await load(base), await load(root)];
  const mix = await import(pathToFileURL(path.join(root, 'dist', 'bench', 'helpers', 'rule-mix.js')).href);
  const { eventStream } = await import(pathToFileURL(path.join(root, 'dist', 'bench', 'helpers', 'event-stream.js')).href);
  const T = Date.parse('2026-03-02T10:00:00Z');
  const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify(mix.makeEvent(i, T + i * 50)));
  const allRaw = Array.from({ length: 10_000 }, (_, i) => mix.makeRule(i));
  for (const size of sizes) {
    // Both engines see the stream the rules bench uses: chunks parsed untimed, then handled, time moving forward.
    const stream = (lib) => {
      const engine = new lib.RuleEngine({ maxTracesPerRule: 0 });
      engine.setRules(lib.validateRules(allRaw.slice(0, size)).rules);
      const env = { now: 0, flags: {} };
      const st = eventStream(lines, T, 50, (e, now) => {
        env.now = now;
        return engine.process(e, env).firings.length;
      });
      return (ms) => st.round(ms);
    };
    const [a, b] = [stream(A), stream(B)];
    a(1_500);
    b(1_500);
    const ra = [];
    const rb = [];
    const ratio = [];
    for (let i = 0; i < ROUNDS; i++) {
      const [x, y] = i % 2 ? [a(250), b(250)] : [b(250), a(250)].reverse();
      ra.push(x);
      rb.push(y);
      ratio.push(y / x);
    }
    const med = (v) => [...v].sort((p, q) => p - q)[v.length >> 1];
    const fmt = (v) => Math.round(v).toLocaleString('en-US');
    console.log(`${size.toLocaleString('en-US')} rules: ${ref} ${fmt(med(ra))} events/s, working tree ${fmt(med(rb))} events/s, median ratio ${med(ratio).toFixed(2)}× (rounds ${Math.min(...ratio).toFixed(2)}–${Math.max(...ratio).toFixed(2)}×)`);
  }
} finally {
  if (existsSync(base)) execFileSync('git', ['worktree', 'remove', '--force', base], { cwd: root, stdio: 'ignore' });
  rmSync(base, { recursive: true, force: true });
}
