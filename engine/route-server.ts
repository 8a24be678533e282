import http from 'node:http';
import { REQUEST_LIMITS } from '../base/request-limits.js';
import type { MonitorRoute } from '../core/monitor.js';

export interface RouteServer {
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

/**
 * The monitor types' HTTP routes (webhook, heartbeat) where no agent server runs: the desktop engine. Same rules as
 * the agent's server: 127.0.0.1 only, the same security headers, each route authorised by its own secret; nothing
 * else is served here (no UI, no protocol).
 */
export async function startRouteServer(routes: () => MonitorRoute[], port = 0): Promise<RouteServer> {
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as { port: number }).port;
  return {
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function deny(res: http.ServerResponse, status: number, message: string): void {
  if (!res.headersSent) res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
  res.end(JSON.stringify({ ok: false, error: message }));
}
