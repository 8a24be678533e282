/**
 * Caps the connections one of Panoptes' local HTTP servers holds, so a flood (half-sent requests, a webhook storm, a
 * scanner) cannot use up the process's file descriptors and lock out the user's own page. Everything arrives over
 * loopback (one address for every client), so the cap is on the server as a whole, and it never refuses a newcomer:
 * past the cap the oldest connections give way, first those that have not finished sending a request (the flood's
 * kind), then idle or slow ones. A connection handed over as `kept` (the authenticated protocol WebSocket, which has
 * a cap of its own) is not counted and never closed here.
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** Connections held at once, besides the kept ones: far below a desktop's usual 1,024 descriptors. */
export const MAX_CONNECTIONS = 256;

export interface ConnectionGuard {
  /** Take this socket out of the cap: it is authenticated and capped elsewhere. */
  keep(socket: Duplex): void;
  /** Connections counted now. */
  readonly size: number;
}

export function guardConnections(server: http.Server, opts: { max?: number; onEvict?: (count: number) => void } = {}): ConnectionGuard {
  const max = opts.max ?? MAX_CONNECTIONS;
  // Insertion order is age; a socket that finished sending a request header is `started`.
  const open = new Map<Socket, { started: boolean }>();
  let evictedSinceReport = 0;
  let reportTimer: NodeJS.Timeout | null = null;
  const report = () => {
    reportTimer = null;
    if (evictedSinceReport) opts.onEvict?.(evictedSinceReport);
    evictedSinceReport = 0;
  };
  server.on('connection', (socket: Socket) => {
    open.set(socket, { started: false });
    socket.once('close', () => open.delete(socket));
    if (open.size <= max) return;
    // The oldest connection that has not sent a whole request header; else the oldest of all (never the newcomer).
    let victim: Socket | null = null;
    for (const [s, st] of open) {
      if (s === socket) continue;
      if (!st.started) {
        victim = s;
        break;
      }
      victim ??= s;
    }
    if (!victim) return;
    open.delete(victim);
    victim.destroy();
    evictedSinceReport++;
    // Said once a second at most, with a count: a flood must not flood the log as well.
    reportTimer ??= setTimeout(report, 1_000);
    reportTimer.unref?.();
  });
  const started = (req: http.IncomingMessage) => {
    const st = open.get(req.socket as Socket);
    if (st) st.started = true;
  };
  server.on('request', started);
  server.on('upgrade', started);
  return {
    keep: (socket) => void open.delete(socket as Socket),
    get size() {
      return open.size;
    },
  };
}
