import type { WireMessage } from '../../../core/protocol.js';

/**
 * A link is one live duplex connection that carries WireMessage objects. The client above it does not care
 * whether it is a WebSocket (browser, headless agent) or a MessagePort (Electron window).
 */
export interface Link {
  send(msg: WireMessage): void;
  close(): void;
}

export type CloseReason = 'lost' | 'rejected';

export interface LinkHandlers {
  onOpen(): void;
  onMessage(msg: WireMessage): void;
  onClose(reason: CloseReason): void;
}

export type Connector = (handlers: LinkHandlers) => Link;

/** Close codes the agent uses (or a proxy would) when the token is not accepted. */
const REJECT_CODES = new Set([1008, 4001, 4003]);

export function webSocketConnector(token: string, url = wsUrlFromLocation()): Connector {
  return (h) => {
    let opened = false;
    let closed = false;
    const ws = new WebSocket(url, ['panoptes.v1', 'token.' + token]);
    ws.onopen = () => {
      opened = true;
      h.onOpen();
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let msg: unknown;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return; // not ours; ignore rather than crash the page
      }
      if (isWireMessage(msg)) h.onMessage(msg);
    };
    ws.onclose = (ev) => {
      if (closed) return;
      closed = true;
      if (REJECT_CODES.has(ev.code)) return h.onClose('rejected');
      if (opened) return h.onClose('lost');
      // The handshake failed. The browser hides the HTTP status, so ask the server about the key itself: only a
      // real 401 means it was refused. Down, starting or unreachable is "lost", and the client keeps trying.
      void keyRefused(token).then((refused) => h.onClose(refused ? 'rejected' : 'lost'));
    };
    return {
      send: (msg) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
      },
      close: () => {
        closed = true;
        ws.close();
      },
    };
  };
}

async function keyRefused(token: string): Promise<boolean> {
  try {
    const r = await fetch(location.origin + '/auth/check', { method: 'GET', cache: 'no-store', headers: { authorization: 'Bearer ' + token } });
    return r.status === 401;
  } catch {
    return false;
  }
}

export function wsUrlFromLocation(): string {
  const proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
  return proto + location.host + '/ws';
}

/**
 * Electron: the preload posts a MessagePort into the page. A later port (the engine restarted) replaces the
 * earlier one, and the client sees that as a reconnect.
 */
export function messagePortConnector(): Connector {
  return (h) => {
    let port: MessagePort | null = null;
    const onWindowMessage = (ev: MessageEvent) => {
      if (ev.source !== window || !ev.data || ev.data.type !== 'panoptes-port' || !ev.ports[0]) return;
      if (port) {
        port.close();
        h.onClose('lost');
      }
      port = ev.ports[0];
      port.onmessage = (m) => {
        if (isWireMessage(m.data)) h.onMessage(m.data);
      };
      port.start();
      h.onOpen();
    };
    window.addEventListener('message', onWindowMessage);
    // If the preload posted the port before this script ran, this asks it to post one again.
    window.postMessage({ type: 'panoptes-port-request' }, '*');
    return {
      send: (msg) => port?.postMessage(msg),
      close: () => {
        window.removeEventListener('message', onWindowMessage);
        port?.close();
      },
    };
  };
}

function isWireMessage(x: unknown): x is WireMessage {
  if (!x || typeof x !== 'object') return false;
  const k = (x as { kind?: unknown }).kind;
  return k === 'res' || k === 'push' || k === 'req';
}
