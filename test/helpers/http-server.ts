/**
 * A small real HTTP server on 127.0.0.1 for tests: serve files from a folder, add routes, and misbehave on purpose
 * (500s, hangs, connection resets, slow drips, huge bodies). Every request is recorded so a test can check what a
 * client actually sent (conditional headers, auth, accepted encodings).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

export interface TestServer {
  /** `http://127.0.0.1:<port>` without a trailing slash. */
  readonly origin: string;
  url(pathname: string): string;
  /** Every request seen, oldest first. */
  readonly requests: RecordedRequest[];
  route(pathname: string, handler: Handler): void;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Serve files under this folder for paths no route claims. */
  root?: string;
  /** Extra headers per file, e.g. read from the file itself; return undefined for none. */
  fileHeaders?: (file: string, body: Buffer) => Record<string, string> | undefined;
  /** Content-Type for files when fileHeaders gives none. */
  defaultType?: string;
}

export async function startTestServer(options: ServeOptions = {}): Promise<TestServer> {
  const routes = new Map<string, Handler>();
  const requests: RecordedRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();

  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers });
    const handler = routes.get(pathname);
    const run = handler ? handler(req, res) : serveFile(pathname, res);
    Promise.resolve(run).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function serveFile(pathname: string, res: http.ServerResponse): Promise<void> {
    if (!options.root) return notFound(res);
    const file = path.join(options.root, decodeURIComponent(pathname));
    // Never leave the folder, whatever the request path says.
    if (!file.startsWith(path.resolve(options.root) + path.sep)) return notFound(res);
    try {
      if (!(await stat(file)).isFile()) return notFound(res);
    } catch {
      return notFound(res);
    }
    const body = await readFile(file);
    const headers = options.fileHeaders?.(file, body) ?? {};
    const hasType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
    if (!hasType && options.defaultType) headers['content-type'] = options.defaultType;
    res.writeHead(200, { ...headers, 'content-length': String(body.length) });
    res.end(body);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: (p) => origin + (p.startsWith('/') ? p : '/' + p),
    requests,
    route: (p, h) => void routes.set(p, h),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function notFound(res: http.ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found');
}

// Ready-made misbehaviours, to use with `server.route(path, …)`.

export function respond(status: number, body: string | Buffer = '', headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  };
}

/** Accept the request and never answer. */
export function hang(): Handler {
  return () => {};
}

/** Close the TCP connection abruptly (RST) without any response. */
export function resetConnection(): Handler {
  return (req) => {
    req.socket.resetAndDestroy();
  };
}

/** Send headers at once, then one small chunk every `everyMs`, forever (or until `totalChunks`). */
export function slowDrip(everyMs = 200, chunk = '<!-- -->', totalChunks = Infinity, headers: Record<string, string> = { 'content-type': 'application/rss+xml' }): Handler {
  return (req, res) => {
    res.writeHead(200, headers);
    let sent = 0;
    const timer = setInterval(() => {
      if (sent++ >= totalChunks || res.destroyed) {
        clearInterval(timer);
        res.end();
        return;
      }
      res.write(chunk);
    }, everyMs);
    req.socket.on('close', () => clearInterval(timer));
  };
}

/** Stream `bytes` of filler without a Content-Length, so only a reading-time cap can stop it. */
export function hugeBody(bytes: number, headers: Record<string, string> = { 'content-type': 'application/rss+xml' }): Handler {
  return (req, res) => {
    res.writeHead(200, headers);
    const block = Buffer.alloc(64 * 1024, 0x20);
    let left = bytes;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, block.length);
        left -= n;
        if (!res.write(n === block.length ? block : block.subarray(0, n))) return void res.once('drain', pump);
      }
      res.end();
    };
    req.socket.on('close', () => (left = 0));
    pump();
  };
}

/** Serve `body`, compressed with the named encoding if the client asked for it. */
export function compressed(body: string | Buffer, encoding: 'gzip' | 'deflate' | 'br', headers: Record<string, string> = { 'content-type': 'application/rss+xml; charset=utf-8' }): Handler {
  return (req, res) => {
    const accepted = String(req.headers['accept-encoding'] ?? '');
    if (!accepted.includes(encoding)) {
      res.writeHead(200, headers);
      return void res.end(body);
    }
    const data = encoding === 'gzip' ? zlib.gzipSync(body) : encoding === 'deflate' ? zlib.deflateSync(body) : zlib.brotliCompressSync(body);
    res.writeHead(200, { ...headers, 'content-encoding': encoding, 'content-length': String(data.length) });
    res.end(data);
  };
}
