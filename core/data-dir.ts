import os from 'node:os';
import path from 'node:path';

/** The OS's usual place for app data, overridable with --data or PANOPTES_DATA. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.PANOPTES_DATA) return path.resolve(env.PANOPTES_DATA);
  const home = os.homedir();
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Panoptes');
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Panoptes');
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'panoptes');
}
