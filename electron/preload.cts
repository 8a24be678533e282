/**
 * The sandboxed preload (CommonJS, as sandboxed preloads must be). It does exactly four things:
 * hands the engine's MessagePort to the page, relays "open this event" from the tray/notifications, exposes
 * `window.panoptesDesktop = { platform, preferences }`, where `preferences` reads and changes the desktop
 * preferences through two invoke channels that main validates (electron/preferences-ipc.ts). No Node API and no
 * ipcRenderer reach the page.
 */
import { contextBridge, ipcRenderer } from 'electron';

// The project compiles without the DOM library (most of it is Node); the little of the page's window used here:
interface PageMessageEvent {
  source: unknown;
  data: { type?: unknown } | null;
}
declare const window: {
  postMessage(message: unknown, targetOrigin: string, transfer?: unknown[]): void;
  addEventListener(type: 'message', listener: (ev: PageMessageEvent) => void): void;
};

ipcRenderer.on('panoptes-port', (event) => {
  const port = event.ports[0];
  if (port) window.postMessage({ type: 'panoptes-port' }, '*', [port]);
});

ipcRenderer.on('panoptes-open-event', (_event, eventId: unknown) => {
  if (typeof eventId === 'string') window.postMessage({ type: 'panoptes-open-event', eventId }, '*');
});

ipcRenderer.on('panoptes-open-view', (_event, view: unknown) => {
  if (typeof view === 'string') window.postMessage({ type: 'panoptes-open-view', view }, '*');
});

// The page asks again when its script started after the first port was posted (or after a reload).
window.addEventListener('message', (ev) => {
  if (ev.source === window && ev.data && ev.data.type === 'panoptes-port-request') ipcRenderer.send('panoptes-port-request');
});

// Sandboxed preloads cannot require our modules, so the channel names of electron/preferences-ipc.ts are repeated
// here (test/desktop/preferences-ipc.test.ts keeps them equal). Main validates every patch and the sender.
contextBridge.exposeInMainWorld('panoptesDesktop', {
  platform: process.platform,
  preferences: {
    get: (): Promise<unknown> => ipcRenderer.invoke('panoptes-preferences-get'),
    set: (patch: unknown): Promise<unknown> => ipcRenderer.invoke('panoptes-preferences-set', patch),
  },
});
