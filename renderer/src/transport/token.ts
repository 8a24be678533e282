/**
 * The headless agent prints `http://127.0.0.1:PORT/#token=TOKEN`. The token is read from the fragment once,
 * removed from the address bar (so it is not shared by copy-paste or kept in history), and remembered in
 * localStorage so reloads and new tabs of the same origin keep working.
 */
const STORAGE_KEY = 'panoptes.token';

export function takeTokenFromLocation(loc: Location = window.location): string | null {
  const params = new URLSearchParams(loc.hash.replace(/^#/, ''));
  const fromHash = params.get('token');
  if (fromHash) {
    try {
      localStorage.setItem(STORAGE_KEY, fromHash);
    } catch {
      // Storage can be disabled (private mode); the token still works for this page.
    }
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', loc.pathname + loc.search + (rest ? '#' + rest : ''));
    return fromHash;
  }
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function forgetToken(): void {
  try {
    localStorage.removeItem(STORAGE_KEY);
  } catch {
    /* nothing stored */
  }
}
