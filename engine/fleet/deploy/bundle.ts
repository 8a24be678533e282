// The packed build `panoptes deploy` copies to another machine: like `npm pack`, plus the production node_modules,
// because the remote side may have no internet (and no compiler) to install them. Native modules (better-sqlite3,
// re2) are this machine's builds, so the remote needs the same OS, CPU and Node ABI — deploy checks that first.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project folder this build runs from (dist/engine/fleet/deploy → four levels up). */
export const APP_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

export interface BundleInfo {
  version: string;
  /** Node's module ABI the native modules were built for (`process.versions.modules`). */
  abi: string;
  /** The Node version that built them, to name in messages. */
  node: string;
  platform: NodeJS.Platform;
  arch: string;
}

export function appVersion(root = APP_ROOT): string {
  return (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

export function thisBuild(root = APP_ROOT): BundleInfo {
  return { version: appVersion(root), abi: process.versions.modules, node: process.versions.node, platform: process.platform, arch: process.arch };
}

/**
 * The top-level packages the agent needs at run time: every package-lock entry that is not dev-only. Nested
 * copies (`a/node_modules/b`) travel inside their parent's folder.
 */
export function productionPackages(root = APP_ROOT): string[] {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean }> };
  const out: string[] = [];
  for (const [key, meta] of Object.entries(lock.packages)) {
    if (!key.startsWith('node_modules/') || meta.dev) continue;
    if (key.slice('node_modules/'.length).includes('node_modules/')) continue;
    // An optional dependency for another platform is in the lock but not on disk.
    if (!existsSync(path.join(root, key))) continue;
    out.push(key);
  }
  return out.sort();
}

/** Build leftovers and sources of native modules: not needed to run, most of their size. */
// Type declarations, TypeScript sources, source maps, docs: a third of the files, none of them run.
const EXCLUDES = ['*.map', '*.md', '*.ts', '*.cts', '*.mts', '*/build/Release/obj', '*/build/Release/obj.target', '*/build/Release/.deps', '*/build-tmp-*/Release/obj.target', 'node_modules/re2/vendor', 'node_modules/better-sqlite3/deps', '*.o', '*.a', 'node_modules/.bin'];

/** What goes into the tarball: the CLI's launcher, the compiled code and UI (no tests, no benches), the manifests. */
export function bundleEntries(root = APP_ROOT): string[] {
  const dist = ['base', 'channels', 'cli', 'core', 'engine', 'monitors', 'renderer', 'rules', 'server', 'electron'].map((d) => `dist/${d}`).filter((p) => existsSync(path.join(root, p)));
  return ['bin', 'package.json', 'package-lock.json', ...dist, ...productionPackages(root)];
}

/** Pack this build into `file` (a .tar.gz) with the system's tar. */
export function packBundle(file: string, root = APP_ROOT): BundleInfo {
  if (!existsSync(path.join(root, 'dist', 'cli', 'main.js'))) throw new Error(`${root} is not built; run \`npm run build\` first`);
  const info = thisBuild(root);
  const list = file + '.files';
  writeFileSync(list, bundleEntries(root).join('\n') + '\n');
  // The remote reads this to check it can run the native modules before anything is installed.
  writeFileSync(path.join(path.dirname(file), 'panoptes-build.json'), JSON.stringify(info) + '\n');
  const r = spawnSync('tar', ['-czf', file, ...EXCLUDES.map((e) => `--exclude=${e}`), '-C', root, '-T', list, '-C', path.dirname(file), 'panoptes-build.json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`packing the build failed: ${(r.stderr || r.error?.message || '').trim()}`);
  return info;
}
