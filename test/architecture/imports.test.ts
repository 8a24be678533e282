import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../helpers/agent-process.js';

/**
 * The folder says where code runs and what it may import (ARCHITECTURE.md). This keeps it so: a forbidden
 * import anywhere fails the build's tests with the file and the import named.
 */
const RULES: Record<string, { mayImport: string[]; electron: boolean; deny?: string[] }> = {
  core: { mayImport: ['core'], electron: false },
  monitors: { mayImport: ['core', 'monitors'], electron: false },
  channels: { mayImport: ['core', 'channels'], electron: false },
  rules: { mayImport: ['core', 'rules'], electron: false },
  engine: { mayImport: ['core', 'monitors', 'channels', 'rules', 'engine'], electron: false },
  server: { mayImport: ['core', 'engine', 'server', 'monitors'], electron: false },
  renderer: { mayImport: ['renderer', 'core/protocol', 'core/event'], electron: false },
  // The shell reaches the engine only through the protocol: no store, config or monitor host of its own.
  electron: { mayImport: ['electron', 'core'], electron: true, deny: ['core/store', 'core/config', 'core/monitor-host', 'core/flags'] },
};

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    if (n === 'node_modules' || n === 'dist') return [];
    return statSync(p).isDirectory() ? files(p) : /\.(c|m)?tsx?$/.test(n) ? [p] : [];
  });
}

test('each folder imports only what the architecture allows, and the engine never imports electron', () => {
  const problems: string[] = [];
  for (const [folder, rule] of Object.entries(RULES)) {
    for (const file of files(path.join(PROJECT_ROOT, folder))) {
      const text = readFileSync(file, 'utf8');
      const specs = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
      for (const spec of specs) {
        if (spec === 'electron' && !rule.electron) problems.push(`${path.relative(PROJECT_ROOT, file)} imports electron`);
        if (!spec.startsWith('.')) continue;
        const target = path.relative(PROJECT_ROOT, path.resolve(path.dirname(file), spec)).replace(/\.(js|ts|tsx|cjs)$/, '');
        const top = target.split(path.sep)[0]!;
        const allowed = rule.mayImport.some((a) => target === a || target.startsWith(a + path.sep) || (a === top && !a.includes('/')));
        const denied = (rule.deny ?? []).some((d) => target === d || target.startsWith(d + path.sep));
        if (!allowed || denied) problems.push(`${path.relative(PROJECT_ROOT, file)} imports ${spec} (${folder}/ may import only ${rule.mayImport.join(', ')})`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('nothing outside channels/ reaches into a channel folder except channels/registry', () => {
  const problems: string[] = [];
  const root = path.join(PROJECT_ROOT, 'channels');
  const folders = existsSync(root) ? readdirSync(root).filter((n) => statSync(path.join(root, n)).isDirectory()) : [];
  for (const top of ['core', 'monitors', 'channels', 'rules', 'engine', 'server', 'cli', 'electron', 'renderer']) {
    for (const file of files(path.join(PROJECT_ROOT, top))) {
      const rel = path.relative(PROJECT_ROOT, file);
      const own = rel.split(path.sep).slice(0, 2).join('/');
      if (rel === path.join('channels', 'registry.ts')) continue;
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
        const target = path.relative(PROJECT_ROOT, path.resolve(path.dirname(file), m[1] ?? m[2]!)).split(path.sep);
        if (target[0] !== 'channels' || target.length < 3 || !folders.includes(target[1]!)) continue;
        if (own !== `channels/${target[1]}`) problems.push(`${rel} imports ${m[1] ?? m[2]} (only channels/registry.ts may)`);
      }
    }
  }
  assert.deepEqual(problems, []);
});
