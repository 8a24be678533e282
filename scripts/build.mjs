// Builds everything `npm start` and `npm test` need: the engine/CLI/electron code with tsc, the renderer with Vite.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const only = process.argv[2]; // "node" or "renderer" to build one half

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build failed: ${path.basename(cmd)} ${args.join(' ')}`);
    process.exit(r.status ?? 1);
  }
}

if (only !== 'renderer') run(bin('tsc'), ['-p', 'tsconfig.json']);
if (only !== 'node' && existsSync(path.join(root, 'renderer', 'index.html'))) {
  run(bin('tsc'), ['-p', 'renderer/tsconfig.json', '--noEmit']);
  run(bin('vite'), ['build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn']);
}
