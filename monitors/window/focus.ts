/**
 * Which window is in front, reduced to what a user asked to share: excluded apps are never reported (not even
 * their name), titles can be dropped, and a change is reported once, not on every poll.
 */

export interface WindowSnapshot {
  app: string;
  title: string | null;
  pid: number | null;
  path: string | null;
  url: string | null;
}

export interface PrivacyOptions {
  excludeApps: string[];
  dropTitles: boolean;
}

export interface FocusChange {
  app: string;
  title: string | null;
  pid: number | null;
  path: string | null;
  url: string | null;
}

/** The identity of a focus state for change detection; excluded apps collapse into one state. */
export function focusKey(w: WindowSnapshot | null, privacy: PrivacyOptions): string {
  if (!w) return 'none';
  if (isExcluded(w.app, privacy.excludeApps)) return 'excluded';
  return JSON.stringify([w.app, w.pid, privacy.dropTitles ? null : w.title, privacy.dropTitles ? null : w.url]);
}

export function isExcluded(app: string, excludeApps: string[]): boolean {
  const a = app.trim().toLowerCase();
  return excludeApps.some((x) => x.trim().toLowerCase() === a && a !== '');
}

/** What to emit for a new snapshot, or null when nothing the user shares has changed. */
export function detectFocusChange(prevKey: string | null, w: WindowSnapshot | null, privacy: PrivacyOptions): { key: string; change: FocusChange | null } {
  const key = focusKey(w, privacy);
  if (key === prevKey || !w || key === 'excluded') return { key, change: null };
  return {
    key,
    change: {
      app: w.app,
      title: privacy.dropTitles ? null : w.title,
      pid: w.pid,
      path: w.path,
      url: privacy.dropTitles ? null : w.url,
    },
  };
}
