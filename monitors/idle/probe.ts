/**
 * Reading "time since the last keyboard/mouse input" from the OS through desktop-idle (a small native module: the
 * X screensaver extension on Linux/X11, IOKit on macOS, GetLastInputInfo on Windows). Loaded lazily so that a
 * machine where it did not build gets a clear health message rather than a crash at import.
 */
import { createRequire } from 'node:module';

/** Milliseconds since the last input. `close` (optional) releases whatever the probe holds when its monitor stops. */
export type IdleProbe = (() => number) & { close?: () => void };

const require = createRequire(import.meta.url);

export function desktopIdleProbe(): IdleProbe {
  if (process.platform === 'linux' && !process.env.DISPLAY) {
    throw new Error(
      'no X display (DISPLAY is not set): idle time comes from the X screensaver extension; under Wayland run Panoptes ' +
        'as the desktop app, which reads idle time through Electron',
    );
  }
  let mod: { getIdleTime(): number };
  try {
    mod = require('desktop-idle') as { getIdleTime(): number };
  } catch (err) {
    throw new Error(`desktop-idle is not available (${(err as Error).message}); on Linux it needs libxss-dev to build`);
  }
  let onesInARow = 0;
  return () => {
    const seconds = mod.getIdleTime();
    // desktop-idle answers exactly 1 s when it cannot open the display; a real counter does not stay there.
    onesInARow = seconds === 1 ? onesInARow + 1 : 0;
    if (onesInARow >= 3) throw new Error(`cannot read idle time from X display ${process.env.DISPLAY ?? ''}`.trim());
    return Math.round(seconds * 1000);
  };
}
