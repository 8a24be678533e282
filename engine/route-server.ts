import http from 'node:http';
import { REQUEST_LIMITS } from '../base/request-limits.js';
import { guardConnections } from '../base/connection-guard.js';
import type { MonitorRoute } from '../core/monitor.js';
import { protocolSocket, type ProtocolHost } from './local-endpoint.js';

export interface RouteServer {
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

/**
 * The desktop engine's local server, where no agent server runs: the monitor types' HTTP routes (webhook,
 * heartbeat), and with `protocol` the service protocol at `/ws` for the CLI (token, Host and Origin checked by the
 * same code as the agent's). Same rules as the agent's server: 127.0.0.1 only, the same security headers, each route
 * authorised by its own secret; no UI is served here (the desktop shows it in its own window).
 */
export async function startRouteServer(routes: () => MonitorRoute[], port = 0, protocol?: { host: ProtocolHost; token: string; log?: (message: string) => void }): Promise<RouteServer> {
  const server = http.createServer(REQUEST_LIMITS, async (req, res) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    try {
      for (const route of routes()) if (url.pathname.startsWith(route.prefix) && (await route.handle(req, res, url))) return;
    } catch (err) {
      if (!res.headersSent) deny(res, 500, (err as Error).message);
      return;
    }
    deny(res, 404, 'not found');
  });
  let actual = 0;
  const guard = guardConnections(server, { onEvict: (n) => protocol?.log?.(`connection cap reached: closed the ${n} oldest unfinished or idle connection${n === 1 ? '' : 's'}`) });
  const socket = protocol ? protocolSocket({ ...protocol, port: () => actual, kept: (s) => guard.keep(s) }) : null;
  if (socket) server.on('upgrade', (req, sock, head) => socket.upgrade(req, sock, head));
  else server.on('upgrade', (_req, sock) => sock.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  actual = (server.address() as { port: number }).port;
  return {
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        socket?.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function deny(res: http.ServerResponse, status: number, message: string): void {
  if (!res.headersSent) res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
  res.end(JSON.stringify({ ok: false, error: message }));
}
