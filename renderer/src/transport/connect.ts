import { PanoptesClient } from './client.js';
import { messagePortConnector, webSocketConnector } from './links.js';
import { takeTokenFromLocation } from './token.js';

declare global {
  interface Window {
    panoptesDesktop?: { platform: string };
  }
}

export function isDesktop(): boolean {
  return typeof window !== 'undefined' && !!window.panoptesDesktop;
}

/** Picks the transport for where the page runs: the Electron preload's MessagePort, or the agent's WebSocket. */
export function createClient(): { client: PanoptesClient } | { client: null; reason: 'no-token' } {
  if (isDesktop()) return { client: new PanoptesClient(messagePortConnector(), false) };
  const token = takeTokenFromLocation();
  if (!token) return { client: null, reason: 'no-token' };
  return { client: new PanoptesClient(webSocketConnector(token)) };
}
