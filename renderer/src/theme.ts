import type { Settings } from '../../core/protocol.js';

/** `system` leaves it to prefers-color-scheme; light/dark pin it with a data attribute the stylesheet reads. */
export function applyTheme(theme: Settings['theme']): void {
  const root = document.documentElement;
  if (theme === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', theme);
  try {
    localStorage.setItem('panoptes.theme', theme);
  } catch {
    /* storage off */
  }
}

/** Apply the last known theme before the first paint, so a dark-theme user never sees a white flash. */
export function applyStoredTheme(): void {
  try {
    const t = localStorage.getItem('panoptes.theme');
    if (t === 'light' || t === 'dark') applyTheme(t);
  } catch {
    /* storage off */
  }
}
