/**
 * The sandboxed preload (CommonJS, as sandboxed preloads must be). It does exactly three things:
 * hands the engine's MessagePort to the page, relays "open this event" from the tray/notifications, and exposes
 * `window.panoptesDesktop = { platform }`. No Node API and no ipcRenderer reach the page.
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

contextBridge.exposeInMainWorld('panoptesDesktop', { platform: process.platform });
