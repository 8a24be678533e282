/**
 * OS signals the desktop shell sees (Electron powerMonitor) as engine events, so rules can react to them like to
 * any monitor's: `session.lock`, `session.unlock`, `system.suspend`, `system.resume`, `power.ac`, `power.battery`.
 */
import type { NewEvent } from '../core/event.js';

export type ShellSignal = 'lock-screen' | 'unlock-screen' | 'suspend' | 'resume' | 'on-ac' | 'on-battery';

/** The `source` of these events. */
export const SHELL_SOURCE = 'desktop';

const EVENTS: Record<ShellSignal, { type: string; title: string }> = {
  'lock-screen': { type: 'session.lock', title: 'Session locked' },
  'unlock-screen': { type: 'session.unlock', title: 'Session unlocked' },
  suspend: { type: 'system.suspend', title: 'Computer going to sleep' },
  resume: { type: 'system.resume', title: 'Computer woke up' },
  'on-ac': { type: 'power.ac', title: 'On AC power' },
  'on-battery': { type: 'power.battery', title: 'On battery' },
};

export const SHELL_SIGNALS = Object.keys(EVENTS) as ShellSignal[];

export function shellSignalEvent(signal: ShellSignal, at: Date, extra: Record<string, unknown> = {}): NewEvent {
  const e = EVENTS[signal];
  return { type: e.type, ts: at.toISOString(), title: e.title, body: '', fields: { signal, ...extra } };
}

/** Presence and shell events are frequent and not news: they stay out of the tray's latest list and unread count. */
export function isAmbientType(type: string): boolean {
  return /^(window|idle|session|system|power|flag)\./.test(type);
}
