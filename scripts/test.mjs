// `npm test`: build, then run every compiled test file with Node's own test runner.
// `npm test -- rss store` runs only the files whose path contains one of the words.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
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
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PANOPTES_ROOT: root },
});
process.exit(r.status ?? 1);
