import { useEffect, useState } from 'react';
import { ErrorBox } from './ErrorBox.js';

/**
 * The Settings view's Desktop section: preferences of the desktop app itself (login start, tray, sound), kept by
 * the Electron main process in electron-store rather than in the engine's settings. It reaches them only through
 * the preload's `window.panoptesDesktop.preferences`, so it renders nothing in a browser (agent UI) or when an
 * older desktop build has no such API. Each change is applied at once, as OS preference panes do.
 */

/** Mirrors electron/preferences-ipc.ts (the renderer may not import electron code). */
type DesktopPreferences = {
  startOnLogin: boolean;
  startHidden: boolean;
  notificationSound: boolean;
  notificationClickOpensUrl: boolean;
  closeToTray: boolean;
  trayLeftClickToggles: boolean;
};

interface PreferencesApi {
  get(): Promise<DesktopPreferences>;
  set(patch: Partial<DesktopPreferences>): Promise<DesktopPreferences>;
}

function preferencesApi(): PreferencesApi | null {
  const desktop = (window as unknown as { panoptesDesktop?: { preferences?: PreferencesApi } }).panoptesDesktop;
  return desktop?.preferences ?? null;
}

const CHOICES: { key: keyof DesktopPreferences; label: string; help?: string }[] = [
  { key: 'startOnLogin', label: 'Start Panoptes when I log in' },
  { key: 'startHidden', label: 'Start hidden in the tray', help: 'The window opens when you click the tray icon or choose Open Panoptes.' },
  { key: 'closeToTray', label: 'Closing the window keeps Panoptes running in the tray' },
  { key: 'trayLeftClickToggles', label: 'A click on the tray icon shows or hides the window', help: 'Some Linux trays only ever open the menu.' },
  { key: 'notificationSound', label: 'Play a sound with notifications', help: 'Low-priority notifications are always silent.' },
  { key: 'notificationClickOpensUrl', label: "Clicking a notification opens the item's web page", help: 'Otherwise it opens the event in Panoptes.' },
];

export function DesktopSettings() {
  const [api] = useState(preferencesApi);
  const [prefs, setPrefs] = useState<DesktopPreferences | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!api) return;
    api.get().then(setPrefs, (e: Error) => setError(e.message));
  }, [api]);

  if (!api) return null;

  const change = async (patch: Partial<DesktopPreferences>) => {
    setBusy(true);
    try {
      setPrefs(await api.set(patch));
      setError(null);
    } catch (e) {
      // Electron prefixes errors thrown in main; the user needs only our message.
      setError((e as Error).message.replace(/^Error invoking remote method '[^']+': (Error: )?/, ''));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card form" aria-label="Desktop">
      <fieldset>
        <legend>Desktop</legend>
        {prefs ? (
          CHOICES.map((c) => (
            <div key={c.key}>
              <label className="check">
                <input type="checkbox" checked={prefs[c.key]} disabled={busy} onChange={(e) => void change({ [c.key]: e.target.checked })} />
                {c.label}
              </label>
              {c.help ? (
                <div className="help" style={{ margin: '-0.4rem 0 0.6rem 1.6rem' }}>
                  {c.help}
                </div>
              ) : null}
            </div>
          ))
        ) : error ? null : (
          <div className="help">Loading…</div>
        )}
        <div className="help" style={{ margin: '0.4rem 0 0.6rem' }}>
          Holding notifications during Do not disturb, and letting high-priority ones through, are set under Notifications
          above; the desktop follows them.
        </div>
        <ErrorBox message={error} />
      </fieldset>
    </section>
  );
}
