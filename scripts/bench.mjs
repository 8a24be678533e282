// `npm run bench`: build, then run every benchmark in dist/bench (one after another, so they do not compete).
// `npm run bench -- rules` runs only the benchmarks whose file name contains "rules".
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), 'node'], { stdio: 'inherit' });
if (b.status !== 0) process.exit(b.status ?? 1);
const dir = path.join(root, 'dist', 'bench');
const files = existsSync(dir)
  ? readdirSync(dir).filter((f) => f.endsWith('.bench.js') && (!filters.length || filters.some((w) => f.includes(w)))).sort()
  : [];
let failed = 0;
for (const f of files) {
  console.log(`\n## ${f.replace(/\.bench\.js$/, '')}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(dir, f)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
