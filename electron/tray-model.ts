/**
 * The tray as a pure function of the app's state: which icon, what tooltip and badge, which menu. main.ts turns
 * the model into Electron's Tray/Menu and routes each item's action; nothing here touches Electron.
 */

export type TrayIconState = 'normal' | 'unread' | 'paused' | 'dnd' | 'failing';
export type EngineState = 'starting' | 'running' | 'restarting' | 'failed';

export interface TrayEvent {
  id: string;
  title: string;
  source: string;
}

export interface TrayState {
  engine: EngineState;
  paused: boolean;
  /** Do-not-disturb flag: set or not, and when it expires (ISO) if it does. */
  dnd: { on: boolean; until: string | null };
  unread: number;
  /** The notification center's quiet hours (it decides them): in force or not, and until when (ISO). */
  quietHours?: { active: boolean; until: string | null };
  /** Names of monitors whose health is `failing`. */
  failingMonitors: string[];
  /** Newest first; only the first five are shown. */
  latest: TrayEvent[];
}

export type TrayAction =
  | { kind: 'open' }
  | { kind: 'settings' }
  | { kind: 'open-event'; eventId: string }
  | { kind: 'pause'; paused: boolean }
  | { kind: 'dnd'; for: 'hour' | 'tomorrow' | 'off' }
  | { kind: 'quit' };

export interface TrayMenuItem {
  label?: string;
  type?: 'normal' | 'separator' | 'checkbox' | 'submenu';
  checked?: boolean;
  enabled?: boolean;
  action?: TrayAction;
  submenu?: TrayMenuItem[];
}

export interface TrayModel {
  icon: TrayIconState;
  tooltip: string;
  /** Text for the platform badge (macOS dock / tray title, Linux Unity count); empty when nothing unread. */
  badge: string;
  menu: TrayMenuItem[];
}

export const LATEST_IN_MENU = 5;
const LABEL_MAX = 60;

export function trayIconState(s: TrayState): TrayIconState {
  // Most urgent first: a failure is what the user must act on; paused and dnd explain why nothing arrives.
  if (s.engine === 'failed' || s.engine === 'restarting' || s.failingMonitors.length > 0) return 'failing';
  if (s.paused) return 'paused';
  if (s.dnd.on) return 'dnd';
  if (s.unread > 0) return 'unread';
  return 'normal';
}

export function trayModel(s: TrayState, formatTime: (iso: string) => string = localHourMinute): TrayModel {
  const icon = trayIconState(s);
  const lines = ['Panoptes'];
  if (s.engine === 'starting') lines.push('starting…');
  if (s.engine === 'restarting') lines.push('engine stopped, restarting…');
  if (s.engine === 'failed') lines.push('engine failed to start');
  if (s.failingMonitors.length) {
    const names = s.failingMonitors.slice(0, 3).join(', ') + (s.failingMonitors.length > 3 ? ', …' : '');
    lines.push(`${s.failingMonitors.length} monitor${s.failingMonitors.length === 1 ? '' : 's'} failing: ${names}`);
  }
  if (s.paused) lines.push('monitors paused');
  if (s.dnd.on) lines.push(s.dnd.until ? `do not disturb until ${formatTime(s.dnd.until)}` : 'do not disturb');
  const quiet = s.quietHours?.active ? (s.quietHours.until ? `Quiet hours until ${formatTime(s.quietHours.until)}` : 'Quiet hours') : null;
  if (quiet) lines.push(quiet.toLowerCase());
  if (s.unread > 0) lines.push(`${s.unread} unread`);

  const latest = s.latest.slice(0, LATEST_IN_MENU);
  const menu: TrayMenuItem[] = [];
  if (latest.length) {
    for (const e of latest) {
      menu.push({ label: menuLabel(e.title || e.source), action: { kind: 'open-event', eventId: e.id } });
    }
  } else {
    menu.push({ label: 'No events yet', enabled: false });
  }
  menu.push({ type: 'separator' });
  menu.push({
    label: 'Pause all monitors',
    type: 'checkbox',
    checked: s.paused,
    enabled: s.engine === 'running',
    action: { kind: 'pause', paused: !s.paused },
  });
  menu.push({
    label: s.dnd.on && s.dnd.until ? `Do not disturb (until ${formatTime(s.dnd.until)})` : 'Do not disturb',
    type: 'submenu',
    enabled: s.engine === 'running',
    submenu: [
      { label: 'For 1 hour', action: { kind: 'dnd', for: 'hour' } },
      { label: 'Until tomorrow', action: { kind: 'dnd', for: 'tomorrow' } },
      { label: 'Off', type: 'checkbox', checked: !s.dnd.on, action: { kind: 'dnd', for: 'off' } },
    ],
  });
  // Says why nothing arrives; the hours are changed in Settings → Notifications, not here.
  if (quiet) menu.push({ label: quiet, enabled: false });
  menu.push({ type: 'separator' });
  menu.push({ label: 'Open Panoptes', action: { kind: 'open' } });
  menu.push({ label: 'Settings', action: { kind: 'settings' } });
  menu.push({ type: 'separator' });
  menu.push({ label: 'Quit', action: { kind: 'quit' } });

  return { icon, tooltip: lines.join('\n'), badge: s.unread > 0 ? (s.unread > 99 ? '99+' : String(s.unread)) : '', menu };
}

/** Event titles are untrusted and unbounded: one line, bounded, and `&` not taken as a mnemonic marker. */
export function menuLabel(title: string): string {
  const line = title.replace(/\s+/g, ' ').trim() || '(untitled)';
  const short = line.length > LABEL_MAX ? line.slice(0, LABEL_MAX - 1) + '…' : line;
  return short.replace(/&/g, '&&');
}

/** "Until tomorrow" means tomorrow at 08:00 local time; returns the milliseconds from `now` until then. */
export function untilTomorrowMs(now: Date): number {
  const t = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 8, 0, 0, 0);
  return t.getTime() - now.getTime();
}

/** The `for` parameter of `flags.set` for a tray dnd choice, or null to clear the flag. */
export function dndDuration(choice: 'hour' | 'tomorrow' | 'off', now: Date): string | null {
  if (choice === 'off') return null;
  if (choice === 'hour') return '1h';
  return `${Math.ceil(untilTomorrowMs(now) / 1000)}s`;
}

function localHourMinute(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}
