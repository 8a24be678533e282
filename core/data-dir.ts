import os from 'node:os';
import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The OS's usual place for app data, overridable with --data or PANOPTES_DATA. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.PANOPTES_DATA) return path.resolve(env.PANOPTES_DATA);
  const home = os.homedir();
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Panoptes');
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Panoptes');
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'panoptes');
}

/**
 * The data folder holds events, mail subjects, tokens and secrets: only its owner may read it. Created 0700; every
 * file in it (and in its subfolders) is made 0600, which also tightens files an older version created 0644. A
 * folder others can read is not changed behind the user's back (they may share it on purpose) but reported.
 * Returns the warnings (also passed to `warn`).
 */
export function secureDataDir(dir: string, warn: (message: string) => void = () => {}): string[] {
  const warnings: string[] = [];
  const say = (m: string) => (warnings.push(m), warn(m));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.platform === 'win32') return warnings;
  const mode = statSync(dir).mode & 0o777;
  if (mode & 0o077) say(`the data folder ${dir} can be read by other users (mode ${mode.toString(8)}); it holds your events and secrets: run chmod 700 "${dir}"`);
  const tighten = (folder: string, depth: number) => {
    for (const name of readdirSync(folder)) {
      const p = path.join(folder, name);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue; // gone meanwhile
      }
      if (st.isDirectory() && depth < 2) tighten(p, depth + 1);
      else if (st.isFile() && st.mode & 0o077) {
        try {
          chmodSync(p, 0o600);
        } catch (err) {
          say(`could not make ${p} private (0600): ${(err as Error).message}`);
        }
      }
    }
  };
  tighten(dir, 0);
  return warnings;
}

/** After writing a file into the data folder with a library that does not take a mode: make it 0600. */
export function makePrivate(file: string): void {
  if (process.platform !== 'win32') chmodSync(file, 0o600);
}
