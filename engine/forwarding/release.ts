// Which build this agent is, for its retained status: Panoptes' version, and the release — the name of the folder
// the build runs from, which `panoptes deploy` makes unique per install, so it can tell the agent it just started
// from the one that ran before (same version or not).
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/engine/forwarding → the app folder. */
const APP_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let cached: { version: string; release: string } | null = null;

export function appRelease(): { version: string; release: string } {
  if (cached) return cached;
  let version = '0.0.0';
  try {
    version = (JSON.parse(readFileSync(path.join(APP_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    /* a build without its manifest: say so by the placeholder */
  }
  let release = path.basename(APP_ROOT);
  try {
    release = path.basename(realpathSync(APP_ROOT));
  } catch {
    /* keep the name as found */
  }
  cached = { version, release };
  return cached;
}
