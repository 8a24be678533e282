/**
 * Start on login. macOS and Windows use `app.setLoginItemSettings` (main.ts); Linux desktops read XDG autostart
 * entries from `$XDG_CONFIG_HOME/autostart/*.desktop`, which this module writes and removes. The content is a
 * pure function so a test can check it with `desktop-file-validate`.
 */
import { mkdirSync, rmSync, writeFileSync, readFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const AUTOSTART_FILE = 'panoptes.desktop';
/** Passed on the command line so the app starts in the tray without showing the window. */
export const HIDDEN_FLAG = '--hidden';

export interface DesktopEntryInput {
  /** The executable: the AppImage path, the installed binary, or electron in development. */
  exec: string;
  args?: string[];
  name?: string;
  comment?: string;
  icon?: string;
}

export function autostartDesktopEntry(input: DesktopEntryInput): string {
  const argv = [input.exec, ...(input.args ?? [])];
  const lines = [
    '[Desktop Entry]',
    'Type=Application',
    `Name=${oneLine(input.name ?? 'Panoptes')}`,
    `Comment=${oneLine(input.comment ?? 'Personal reactive automation in your tray')}`,
    `Exec=${argv.map(quoteExecArg).join(' ')}`,
    `Icon=${oneLine(input.icon ?? 'panoptes')}`,
    'Terminal=false',
    'Categories=Utility;',
    'StartupNotify=false',
    'X-GNOME-Autostart-enabled=true',
    'X-GNOME-Autostart-Delay=5',
  ];
  return lines.join('\n') + '\n';
}

/**
 * Quote one argument of an Exec key per the Desktop Entry spec: arguments with reserved characters go in double
 * quotes with `"`, `` ` ``, `$` and `\` backslash-escaped; then, because the key is itself a string value,
 * every backslash is doubled again; a literal `%` is written `%%` so it is not taken as a field code.
 */
export function quoteExecArg(arg: string): string {
  const percent = arg.replace(/%/g, '%%');
  const needsQuotes = percent === '' || /[\s"'\\><~|&;$*?#()`]/.test(percent);
  const quoted = needsQuotes ? `"${percent.replace(/(["`$\\])/g, '\\$1')}"` : percent;
  return quoted.replace(/\\/g, '\\\\');
}

export function autostartDir(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  const configHome = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(home, '.config');
  return path.join(configHome, 'autostart');
}

/** Turn the Linux login start on (write the entry atomically) or off (remove it). Returns the file path. */
export function setLinuxAutostart(enabled: boolean, entry: DesktopEntryInput, dir = autostartDir()): string {
  const file = path.join(dir, AUTOSTART_FILE);
  if (!enabled) {
    rmSync(file, { force: true });
    return file;
  }
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, autostartDesktopEntry(entry), { mode: 0o644 });
  renameSync(tmp, file);
  return file;
}

export function isLinuxAutostartEnabled(dir = autostartDir()): boolean {
  try {
    const text = readFileSync(path.join(dir, AUTOSTART_FILE), 'utf8');
    return !/^\s*(Hidden\s*=\s*true|X-GNOME-Autostart-enabled\s*=\s*false)\s*$/im.test(text);
  } catch {
    return false;
  }
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').trim();
}
