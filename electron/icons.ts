/** Where each OS's icon files live in assets/ (drawn and rendered by assets/build-icons.mjs). */
import path from 'node:path';
import type { TrayIconState } from './tray-model.js';

export function trayIconFile(assetsDir: string, platform: NodeJS.Platform, state: TrayIconState): string {
  // macOS tints template images for light/dark menu bars; Windows picks the right size out of an .ico; other
  // platforms get a 24 px PNG (nativeImage loads the @2x file beside it on HiDPI screens).
  if (platform === 'darwin') return path.join(assetsDir, 'tray', 'macos', `${state}Template.png`);
  if (platform === 'win32') return path.join(assetsDir, 'tray', 'windows', `${state}.ico`);
  return path.join(assetsDir, 'tray', 'linux', `${state}.png`);
}

export function windowIconFile(assetsDir: string, platform: NodeJS.Platform): string {
  if (platform === 'win32') return path.join(assetsDir, 'icons', 'icon.ico');
  return path.join(assetsDir, 'icons', 'png', '256x256.png');
}
