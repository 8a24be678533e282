/**
 * Finding the Electron runtime without ever downloading it.
 *
 * `require('electron')` from plain Node downloads the runtime when it is missing; on our machines there is no
 * network for that, and a test or `npm start` must never hang on it. The `electron` npm package records the
 * executable's path relative to its `dist/` folder in `path.txt` once the runtime is installed, so both files
 * existing is the one reliable sign that the runtime is there. This module does not import electron.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The absolute path of the Electron executable installed under `projectRoot/node_modules/electron`, or null when
 * the runtime was never downloaded. `ELECTRON_OVERRIDE_DIST_PATH` (honoured by the electron package itself) points
 * at a runtime unpacked elsewhere, e.g. a CI cache.
 */
export function findElectronBinary(projectRoot: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const pkgDir = path.join(projectRoot, 'node_modules', 'electron');
  const pathFile = path.join(pkgDir, 'path.txt');
  let relative: string | null = null;
  try {
    relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  } catch {
    relative = null;
  }
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const candidate = path.join(override, relative || defaultExecutableName());
    return isExecutableFile(candidate) ? candidate : null;
  }
  if (!relative) return null;
  const candidate = path.join(pkgDir, 'dist', relative);
  return isExecutableFile(candidate) ? candidate : null;
}

/** One line for `npm start` and the skipped smoke test: why the desktop shell cannot start here. */
export function missingRuntimeReason(projectRoot: string): string {
  return (
    `no Electron runtime (${path.join(projectRoot, 'node_modules', 'electron', 'path.txt')} or its dist/ is missing; ` +
    'it is downloaded from the internet, which this machine cannot reach)'
  );
}

function defaultExecutableName(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return 'Electron.app/Contents/MacOS/Electron';
  if (platform === 'win32') return 'electron.exe';
  return 'electron';
}

function isExecutableFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
