import http from 'node:http';
import { REQUEST_LIMITS } from '../base/request-limits.js';
import { guardConnections } from '../base/connection-guard.js';
import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Engine } from '../engine/engine.js';
import { tokenMatches } from '../engine/token.js';
import { loopbackHosts, loopbackOrigins, protocolSocket } from '../engine/local-endpoint.js';

export interface AgentServerOptions {
  engine: Engine;
  token: string;
  port?: number;
  /** Folder of the built renderer (dist/renderer). */
  uiDir?: string;
  /** Where connection-level problems are reported (a client's broken frame, a refused connection). */
  log?: (message: string) => void;
  /** Extra routes (webhooks) tried before the static files. Return true when handled. */
  routes?: ((req: http.IncomingMessage, res: http.ServerResponse, url: URL) => boolean | Promise<boolean>)[];
}

export interface AgentServer {
  port: number;
  url: string;
  /** The URL to open: the UI with the token in the fragment (never sent to the server in requests). */
  openUrl: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** Answers 204 for the right key (as `Authorization: Bearer`), 401 otherwise. */
export const KEY_CHECK_PATH = '/auth/check';

/**
 * The headless agent's server: the UI's static files and the protocol over a WebSocket, on 127.0.0.1 only.
 * Every request must name this server in Host (so a DNS-rebinding page cannot reach it), browser requests must
 * come from this origin, and the protocol needs the token.
 */
export async function startAgentServer(opts: AgentServerOptions): Promise<AgentServer> {
  const uiDir = opts.uiDir ?? fileURLToPath(new URL('../renderer/', import.meta.url));
  let port = 0;
  const allowedHosts = () => loopbackHosts(port);
  const allowedOrigins = () => loopbackOrigins(port);

  const securityHeaders = (res: http.ServerResponse) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  };

  const server = http.createServer(REQUEST_LIMITS, async (req, res) => {
    securityHeaders(res);
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    // Webhooks are authorised by their own per-hook secret and are called by other programs (possibly through a
    // tunnel with a foreign Host); everything else is for this machine's browser and CLI only.
    const isHook = url.pathname.startsWith('/hooks/');
    if (!isHook && !allowedHosts().has(String(req.headers.host ?? ''))) return deny(res, 421, 'unknown host');
    const origin = req.headers.origin;
    if (!isHook && origin && !allowedOrigins().has(origin)) return deny(res, 403, 'cross-origin requests are not allowed');
    // The page asks this when its WebSocket handshake failed: the browser hides the upgrade's status, and only a real
    // 401 here may make it say its key was refused (an agent that is down or restarting is not a refusal).
    if (url.pathname === KEY_CHECK_PATH) {
      const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
      res.setHeader('Cache-Control', 'no-store');
      res.writeHead(tokenMatches(opts.token, bearer) ? 204 : 401).end();
      return;
    }
    try {
      for (const route of opts.routes ?? []) if (await route(req, res, url)) return;
    } catch (err) {
      if (!res.headersSent) deny(res, 500, (err as Error).message);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'method not allowed');
    serveStatic(uiDir, url.pathname, req, res, port);
  });

  const guard = guardConnections(server, { onEvict: (n) => opts.log?.(`connection cap reached: closed the ${n} oldest unfinished or idle connection${n === 1 ? '' : 's'}`) });
  const protocol = protocolSocket({ host: opts.engine, token: opts.token, port: () => port, log: opts.log, kept: (s) => guard.keep(s) });
  server.on('upgrade', (req, socket, head) => protocol.upgrade(req, socket, head));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}/`;
  return {
    port,
    url,
    openUrl: `${url}#token=${opts.token}`,
    close: async () => {
      protocol.close();
      const closed = new Promise<void>((r) => server.close(() => r()));
      // Kept-alive browser connections (an open tab) would hold close() open until they time out.
      server.closeAllConnections();
      await closed;
    },
  };
}

function deny(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(message + '\n');
}

function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    // Remote images appear only after the user clicks "Show images" (the renderer holds them back until then).
    "img-src 'self' data: https: http:",
    "font-src 'self'",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "object-src 'none'",
    "frame-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

function serveStatic(root: string, pathname: string, req: http.IncomingMessage, res: http.ServerResponse, port: number): void {
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    return deny(res, 400, 'bad path');
  }
  if (rel.endsWith('/')) rel += 'index.html';
  const file = path.resolve(root, '.' + rel);
  if (!file.startsWith(path.resolve(root) + path.sep)) return deny(res, 403, 'forbidden');
  let target = file;
  if (!existsSync(target) || !statSync(target).isFile()) {
    // Single-page app: unknown paths without an extension get the app; missing assets get 404.
    if (path.extname(rel)) return deny(res, 404, 'not found');
    target = path.join(root, 'index.html');
    if (!existsSync(target)) return deny(res, 503, 'the UI is not built; run `npm run build`');
  }
  const ext = path.extname(target);
  res.setHeader('Content-Type', MIME[ext] ?? 'application/octet-stream');
  if (ext === '.html') {
    res.setHeader('Content-Security-Policy', contentSecurityPolicy(port));
    res.setHeader('Cache-Control', 'no-store');
  } else res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
  res.writeHead(200);
  if (req.method === 'HEAD') return void res.end();
  createReadStream(target).pipe(res);
}
