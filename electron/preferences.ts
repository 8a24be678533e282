/**
 * Desktop-only preferences (electron-store): window bounds, starting hidden, notification sound, tray behaviour,
 * login start. Rules, monitors and engine settings live in the engine's config document, not here. The schema is
 * plain data so tests can check it with `conf` (electron-store's base) without Electron.
 */

export interface DesktopPreferences {
  windowBounds: { x?: number; y?: number; width: number; height: number } | null;
  /** Start in the tray without opening the window. */
  startHidden: boolean;
  /** Start Panoptes when I log in. Null until the user chooses: then packaged builds default to on. */
  startOnLogin: boolean | null;
  notificationSound: boolean;
  /** A click on a notification opens the event's URL in the browser instead of the event in Panoptes. */
  notificationClickOpensUrl: boolean;
  /** Closing the window keeps Panoptes running in the tray (instead of quitting). */
  closeToTray: boolean;
  /** Left click on the tray icon shows/hides the window (on Linux some trays only open the menu). */
  trayLeftClickToggles: boolean;
  /** The newest notification (its seq) the shell has shown: after a restart it asks the engine only for what came after. */
  notificationCursor: number | null;
}

export const PREFERENCE_DEFAULTS: DesktopPreferences = {
  windowBounds: null,
  startHidden: false,
  startOnLogin: null,
  notificationSound: true,
  notificationClickOpensUrl: false,
  closeToTray: true,
  trayLeftClickToggles: true,
  notificationCursor: null,
};

/** JSON Schema per key, in the form electron-store/conf take as `schema`. */
export const PREFERENCE_SCHEMA = {
  windowBounds: {
    type: ['object', 'null'],
    properties: {
      x: { type: 'number' },
      y: { type: 'number' },
      width: { type: 'number', minimum: 200 },
      height: { type: 'number', minimum: 200 },
    },
    required: ['width', 'height'],
    additionalProperties: false,
  },
  startHidden: { type: 'boolean' },
  startOnLogin: { type: ['boolean', 'null'] },
  notificationSound: { type: 'boolean' },
  notificationClickOpensUrl: { type: 'boolean' },
  closeToTray: { type: 'boolean' },
  trayLeftClickToggles: { type: 'boolean' },
  notificationCursor: { type: ['integer', 'null'], minimum: 0 },
} as const;

/** The store's options, shared by main.ts (electron-store) and the tests (conf). */
export function preferenceStoreOptions() {
  return {
    name: 'desktop-preferences',
    schema: PREFERENCE_SCHEMA as unknown as Record<string, unknown>,
    defaults: PREFERENCE_DEFAULTS,
    // A hand-broken preferences file must not stop the app: start from defaults (the engine's config is elsewhere).
    clearInvalidConfig: true,
    // On macOS and Windows Electron's userData folder is the data folder, where every file is 0600 (conf's default
    // is 0666 less the umask); on Linux it sits beside it and holds no less about the user.
    configFileMode: 0o600,
  };
}

/** Login start: the user's choice, or on for packaged builds and off in development. */
export function effectiveStartOnLogin(prefs: Pick<DesktopPreferences, 'startOnLogin'>, isPackaged: boolean): boolean {
  return prefs.startOnLogin ?? isPackaged;
}
