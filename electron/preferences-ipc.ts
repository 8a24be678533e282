/**
 * The page's narrow window onto the desktop preferences: read them, change the few a user may change. Everything
 * the page sends is untrusted (a compromised page must not write window bounds, unknown keys or `__proto__`),
 * so each patch is checked here before main.ts hands it to electron-store; main also checks the sender.
 * The sandboxed preload cannot import this module: it repeats the channel names, and a test keeps them equal.
 */
import { effectiveStartOnLogin, type DesktopPreferences } from './preferences.js';

export const PREFERENCES_GET_CHANNEL = 'panoptes-preferences-get';
export const PREFERENCES_SET_CHANNEL = 'panoptes-preferences-set';

/** What the Settings view may change. Window bounds are the main process's own business. */
export const EDITABLE_PREFERENCES = ['startOnLogin', 'startHidden', 'notificationSound', 'notificationClickOpensUrl', 'closeToTray', 'trayLeftClickToggles'] as const;
export type EditablePreference = (typeof EDITABLE_PREFERENCES)[number];

/** What the page sees: every editable preference as a plain boolean (login start resolved to what is in effect). */
export type PreferencesView = Record<EditablePreference, boolean>;

export type PreferencePatch = Partial<PreferencesView>;

export function preferencesView(prefs: DesktopPreferences, isPackaged: boolean): PreferencesView {
  return {
    startOnLogin: effectiveStartOnLogin(prefs, isPackaged),
    startHidden: prefs.startHidden,
    notificationSound: prefs.notificationSound,
    notificationClickOpensUrl: prefs.notificationClickOpensUrl,
    closeToTray: prefs.closeToTray,
    trayLeftClickToggles: prefs.trayLeftClickToggles,
  };
}

const EDITABLE = new Set<string>(EDITABLE_PREFERENCES);

/** A patch from the page, or the reason it is refused (nothing of a refused patch is applied). */
export function validatePreferencePatch(input: unknown): { ok: true; patch: PreferencePatch } | { ok: false; error: string } {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return { ok: false, error: 'preferences: expected an object of changes' };
  if (Object.getPrototypeOf(input) !== Object.prototype && Object.getPrototypeOf(input) !== null) return { ok: false, error: 'preferences: expected a plain object' };
  const keys = Object.keys(input);
  if (!keys.length) return { ok: false, error: 'preferences: nothing to change' };
  const patch: PreferencePatch = {};
  for (const key of keys) {
    if (!EDITABLE.has(key)) return { ok: false, error: `preferences: "${key.slice(0, 40)}" cannot be changed from the window` };
    const value = (input as Record<string, unknown>)[key];
    if (typeof value !== 'boolean') return { ok: false, error: `preferences: "${key}" must be true or false` };
    patch[key as EditablePreference] = value;
  }
  return { ok: true, patch };
}
