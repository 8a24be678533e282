import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../helpers/agent-process.js';

/**
 * The folder says where code runs and what it may import (ARCHITECTURE.md). This keeps it so: a forbidden
 * import anywhere fails the build's tests with the file and the import named, and so does any import cycle.
 */
const RULES: Record<string, { mayImport: string[]; electron: boolean; deny?: string[] }> = {
  // Shared plumbing (HTTP client with limits, TLS files, MQTT connection, backoff, timeouts, reconnect loop).
  base: { mayImport: ['base'], electron: false },
  core: { mayImport: ['core', 'base'], electron: false },
  monitors: { mayImport: ['core', 'monitors', 'base'], electron: false },
  channels: { mayImport: ['core', 'channels', 'base'], electron: false },
  rules: { mayImport: ['core', 'rules', 'base'], electron: false },
  engine: { mayImport: ['core', 'monitors', 'channels', 'rules', 'engine', 'base'], electron: false },
  server: { mayImport: ['core', 'engine', 'server', 'monitors', 'base'], electron: false },
  // The CLI talks to the engine through the protocol or opens one itself; `start` looks for the Electron binary
  // with a plain function (electron/runtime.ts imports no Electron).
  cli: { mayImport: ['cli', 'core', 'base', 'rules', 'engine', 'server', 'monitors', 'electron/runtime'], electron: false },
  // core/protocol-limits: the protocol's one size limit, a constant with no imports, so the page can check what it is
  // about to send (core/protocol itself holds zod schemas the page must not bundle).
  renderer: { mayImport: ['renderer', 'core/protocol', 'core/protocol-limits', 'core/event'], electron: false },
  // The shell reaches the engine only through the protocol: no store, config or monitor host of its own.
  electron: { mayImport: ['electron', 'core', 'base'], electron: true, deny: ['core/store', 'core/config', 'core/monitor-host', 'core/flags'] },
};

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    if (n === 'node_modules' || n === 'dist') return [];
    return statSync(p).isDirectory() ? files(p) : /\.(c|m)?tsx?$/.test(n) ? [p] : [];
  });
}

const rel = (file: string) => path.relative(PROJECT_ROOT, file).split(path.sep).join('/');
const stripExt = (p: string) => p.replace(/\.(js|ts|tsx|cjs|mjs)$/, '');

/** Every relative import of a file (static, dynamic, re-exports, type-only: a type import is still a dependency). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

test('each folder imports only what the architecture allows, and the engine never imports electron', () => {
  const problems: string[] = [];
  for (const [folder, rule] of Object.entries(RULES)) {
    for (const file of files(path.join(PROJECT_ROOT, folder))) {
      for (const spec of importsOf(file)) {
        if (spec === 'electron' && !rule.electron) problems.push(`${rel(file)} imports electron`);
        if (!spec.startsWith('.')) continue;
        const target = stripExt(rel(path.resolve(path.dirname(file), spec)));
        const allowed = rule.mayImport.some((a) => target === a || target.startsWith(a + '/'));
        const denied = (rule.deny ?? []).some((d) => target === d || target.startsWith(d + '/'));
        if (!allowed || denied) problems.push(`${rel(file)} imports ${spec} (${folder}/ may import only ${rule.mayImport.join(', ')})`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

/**
 * Every pattern a user writes (rules, log, web, process, command, folder globs) goes through core/user-regex.ts, so
 * all of them get the same linear-time engine, the same refusal messages and, in the rules, the same time budget.
 */
test('only core/user-regex.ts imports the regex engine (re2)', () => {
  const problems: string[] = [];
  for (const folder of Object.keys(RULES)) {
    for (const file of files(path.join(PROJECT_ROOT, folder))) {
      if (rel(file) === 'core/user-regex.ts') continue;
      if (importsOf(file).includes('re2')) problems.push(`${rel(file)} imports re2 (use core/user-regex.ts)`);
    }
  }
  assert.deepEqual(problems, []);
});

/** Plug-in folders: only their registry (and the folder itself) may import a file inside one. */
const PLUGINS = [
  { root: 'monitors', registry: 'engine/monitor-registry.ts' },
  { root: 'channels', registry: 'channels/registry.ts' },
];

test('nothing outside a monitor or channel folder reaches into it except its registry', () => {
  const problems: string[] = [];
  for (const { root, registry } of PLUGINS) {
    const dir = path.join(PROJECT_ROOT, root);
    const folders = existsSync(dir) ? readdirSync(dir).filter((n) => statSync(path.join(dir, n)).isDirectory()) : [];
    for (const top of Object.keys(RULES)) {
      for (const file of files(path.join(PROJECT_ROOT, top))) {
        const from = rel(file);
        if (from === registry) continue;
        for (const spec of importsOf(file)) {
          if (!spec.startsWith('.')) continue;
          const target = rel(path.resolve(path.dirname(file), spec)).split('/');
          if (target[0] !== root || target.length < 3 || !folders.includes(target[1]!)) continue;
          if (!from.startsWith(`${root}/${target[1]}/`)) problems.push(`${from} imports ${spec} (only ${registry} may reach into ${root}/${target[1]}/)`);
        }
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('no import cycles anywhere: imports only go down', () => {
  const all = Object.keys(RULES).flatMap((folder) => files(path.join(PROJECT_ROOT, folder))).filter((f) => !f.endsWith('.d.ts'));
  const ids = new Set(all.map((f) => stripExt(rel(f))));
  const graph = new Map<string, string[]>();
  for (const file of all) {
    const deps: string[] = [];
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) continue;
      let target = stripExt(rel(path.resolve(path.dirname(file), spec)));
      if (!ids.has(target) && ids.has(`${target}/index`)) target = `${target}/index`;
      if (ids.has(target)) deps.push(target);
    }
    graph.set(stripExt(rel(file)), deps);
  }
  // Tarjan's strongly connected components: any component of more than one module (or a self-import) is a cycle.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)!.includes(v)) cycles.push(component.sort().join(' ⇄ '));
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  assert.deepEqual(cycles, [], 'modules that import each other (directly or around a circle)');
});
