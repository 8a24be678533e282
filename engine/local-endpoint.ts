/**
 * The engine's local endpoint: the service protocol over a WebSocket at `/ws` on 127.0.0.1, guarded by the data
 * folder's token, Host and Origin, and published in `agent.json` so the CLI (and `panoptes tail`) talk to the running
 * engine instead of editing config.json under it. The same whatever hosts the engine: the headless agent's server
 * mounts it beside the UI, the desktop app's engine beside the monitor routes (engine/utility-main.ts).
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Channel } from '../core/rpc/channel.js';
import type { WireMessage } from '../core/protocol.js';
import { tokenMatches } from './token.js';
import { MAX_PROTOCOL_MESSAGE_BYTES } from '../core/protocol-limits.js';

/** What the endpoint connects: the engine's `connect`, kept as a function so this file needs no Engine. */
export interface ProtocolHost {
  connect(channel: Channel): void;
}

export const MAX_WS_MESSAGE = MAX_PROTOCOL_MESSAGE_BYTES;
/**
 * Protocol connections at once (pages, the CLI, `panoptes tail`): all hold the token, so this only stops a runaway
 * script; the pages a person opens stay far below it.
 */
export const MAX_PROTOCOL_CONNECTIONS = 64;
/**
 * What may wait unsent for one client: a page that stopped reading (a frozen tab, a suspended laptop's peer) would
 * otherwise make the engine keep every push and answer for it. Past this it is disconnected; a page reconnects and
 * reloads what it shows.
 */
export const MAX_UNSENT_BYTES = 16 * 1024 * 1024;

/**
 * Why `ws` closed a connection on a protocol error, said in the close frame (ws sends the status code alone). The
 * codes are RFC 6455's: 1002 protocol error (unmasked frame, reserved opcode or bits), 1007 invalid UTF-8, 1009 too big.
 */
const CLOSE_REASONS: Record<number, string> = {
  1002: 'protocol error: malformed frame',
  1007: 'invalid UTF-8 in a text message',
  1009: `message over the ${MAX_WS_MESSAGE / 1024 / 1024} MiB limit`,
};

/** The names a request must give in Host (so a DNS-rebinding page cannot reach the server). */
export function loopbackHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

/** The only origins a browser request may come from: the server's own. */
export function loopbackOrigins(port: number): Set<string> {
  return new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
}

export interface ProtocolSocket {
  /** For `server.on('upgrade', …)`: `/ws` with the token becomes a protocol connection; anything else is refused. */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

/**
 * The protocol's WebSocket endpoint for a server listening on `port()` (known once it listens). `kept` is told of each
 * authenticated connection, so the server's connection cap (base/connection-guard.ts) leaves it to this one.
 */
export function protocolSocket(opts: { host: ProtocolHost; token: string; port: () => number; log?: ((message: string) => void) | undefined; kept?: (socket: Duplex) => void }): ProtocolSocket {
  // ws is loaded by the first connection: an agent nobody opens a page on (a webhook relay, #22) does without it.
  let wss: WebSocketServer | null = null;
  let closed = false;
  /** Connections waiting for that import: they count against the cap like open ones. */
  let waiting = 0;
  const server = async () =>
    (wss ??= new (await import('ws')).WebSocketServer({
      noServer: true,
      maxPayload: MAX_WS_MESSAGE,
      handleProtocols: (protocols) => (protocols.has('panoptes.v1') ? 'panoptes.v1' : false),
    }));
  return {
    upgrade(req, socket, head) {
      const reject = (code: number, why: string) => {
        socket.write(`HTTP/1.1 ${code} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        socket.destroy();
      };
      if (!loopbackHosts(opts.port()).has(String(req.headers.host ?? ''))) return reject(421, 'Misdirected Request');
      const origin = req.headers.origin;
      if (origin && !loopbackOrigins(opts.port()).has(origin)) return reject(403, 'Forbidden');
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/ws') return reject(404, 'Not Found');
      const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
      const fromProtocol = offered.find((p) => p.startsWith('token.'))?.slice(6);
      const fromHeader = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
      if (!tokenMatches(opts.token, fromProtocol ?? fromHeader)) return reject(401, 'Unauthorized');
      if ((wss?.clients.size ?? 0) + waiting >= MAX_PROTOCOL_CONNECTIONS) {
        opts.log?.(`protocol connection refused: ${MAX_PROTOCOL_CONNECTIONS} are open`);
        return reject(503, 'Service Unavailable');
      }
      opts.kept?.(socket);
      if (wss) return accept(wss, req, socket, head);
      // Only the first connection waits for the import; a socket error meanwhile must not end the process.
      const early = () => socket.destroy();
      socket.on('error', early);
      waiting++;
      server().then(
        (s) => {
          waiting--;
          socket.off('error', early);
          if (closed || socket.destroyed) socket.destroy();
          else accept(s, req, socket, head);
        },
        (err: Error) => {
          waiting--;
          opts.log?.(`protocol connection refused: ${err.message}`);
          reject(500, 'Internal Server Error');
        },
      );
    },
    close() {
      closed = true;
      if (!wss) return;
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
  };

  function accept(wss: WebSocketServer, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    wss.handleUpgrade(req, socket, head, (ws) => {
      // A bad frame is one client's problem: ws closes that connection (with our reason) and reports it here. Without
      // a listener the 'error' event would be thrown and end the whole process.
      const close = ws.close.bind(ws);
      ws.close = (code?: number, reason?: string | Buffer) => close(code, reason ?? (code !== undefined ? CLOSE_REASONS[code] : undefined));
      ws.on('error', (err) => opts.log?.(`WebSocket closed after a protocol error: ${err.message}`));
      opts.host.connect(wsChannel(ws, opts.log));
    });
  }
}

export function wsChannel(ws: WebSocket, log?: (message: string) => void): Channel {
  return {
    send: (m) => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_UNSENT_BYTES) {
        // The close frame would queue behind what the client does not read: the socket is ended at once.
        log?.(`protocol client disconnected: too slow, ${Math.round(ws.bufferedAmount / 1024 / 1024)} MiB waiting unsent`);
        ws.terminate();
        return;
      }
      ws.send(JSON.stringify(m));
    },
    onMessage: (l) =>
      ws.on('message', (data) => {
        let msg: WireMessage;
        try {
          msg = JSON.parse(String(data));
        } catch {
          return; // not ours; ignore rather than crash
        }
        l(msg);
      }),
    onClose: (l) => ws.on('close', l),
    close: () => ws.close(),
  };
}

export const ENDPOINT_FILE = 'agent.json';

/**
 * Say in the data folder that this process serves the protocol at `port` (cli/running-engine.ts reads it; a crashed
 * engine's file is recognised by its dead pid). Returns the function that takes it back on a clean stop.
 */
export function publishEndpoint(dataDir: string, endpoint: { port: number; url: string }): () => void {
  const file = path.join(dataDir, ENDPOINT_FILE);
  writeFileSync(file, JSON.stringify({ pid: process.pid, port: endpoint.port, url: endpoint.url }) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return () => {
    // Only our own: an engine started after this one (the shell restarts a crashed engine) may have written it since.
    try {
      if ((JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown }).pid !== process.pid) return;
    } catch {
      return;
    }
    rmSync(file, { force: true });
  };
}
