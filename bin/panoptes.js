#!/usr/bin/env node
// The `panoptes` command: the compiled CLI lives in dist/ (built by `npm install` through `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('panoptes: not built yet; run `npm install` (or `npm run build`) in the project folder first');
  process.exit(2);
}
await import(entry.href);
