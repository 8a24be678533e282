// The push side of a heartbeat: `GET|POST /hooks/heartbeat/<id>` (or `/hooks/heartbeat/<id>/fail` to report a
// failed run) with the heartbeat's secret as `X-Panoptes-Secret`, `Authorization: Bearer …` or `?secret=`. Running
// heartbeat monitors register here; the agent's HTTP server mounts `heartbeatRoute()` (before the webhook route,
// which owns the rest of /hooks/). The body is not read: a ping is the request itself.
import type http from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { answerThenDrop } from '../../base/lingering-answer.js';

const PATH = /^\/hooks\/heartbeat\/([A-Za-z0-9_-]{1,100})(\/fail)?\/?$/;

export interface RegisteredHeartbeat {
  id: string;
  secret: string;
  /** Resolves once the ping is recorded (durably, when it changes the state). */
  ping(ok: boolean): Promise<void>;
}

export class HeartbeatRegistry {
  private readonly beats = new Map<string, RegisteredHeartbeat>();
  register(beat: RegisteredHeartbeat): () => void {
    if (this.beats.has(beat.id)) throw new Error(`another heartbeat already uses the id "${beat.id}"`);
    this.beats.set(beat.id, beat);
    return () => {
      if (this.beats.get(beat.id) === beat) this.beats.delete(beat.id);
    };
  }
  get(id: string): RegisteredHeartbeat | undefined {
    return this.beats.get(id);
  }
}

export const heartbeatRegistry = new HeartbeatRegistry();

function presented(req: http.IncomingMessage, url: URL): string | null {
  const h = req.headers['x-panoptes-secret'];
  if (typeof h === 'string' && h) return h;
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (bearer) return bearer.trim();
  return url.searchParams.get('secret');
}

function same(a: string | null, b: string): boolean {
  if (!a || !b) return false;
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export function heartbeatRoute(registry: HeartbeatRegistry = heartbeatRegistry) {
  return async (req: http.IncomingMessage, res: http.ServerResponse, url?: URL): Promise<boolean> => {
    const u = url ?? new URL(req.url ?? '/', 'http://x');
    if (!u.pathname.startsWith('/hooks/heartbeat/')) return false;
    const m = PATH.exec(u.pathname);
    const beat = m ? registry.get(m[1]!) : undefined;
    let status = 200;
    let error = '';
    // An unknown heartbeat answers exactly like a wrong secret, so nobody learns which heartbeats exist.
    const authorised = same(presented(req, u), beat?.secret ?? 'no heartbeat has this secret: it only keeps the comparison');
    if (!beat || !authorised) [status, error] = [401, 'unknown heartbeat, or wrong or missing secret'];
    else if (req.method !== 'GET' && req.method !== 'POST' && req.method !== 'HEAD') [status, error] = [405, 'use GET or POST'];
    else {
      try {
        await beat.ping(!m![2]);
      } catch {
        [status, error] = [503, 'could not record the ping; try again'];
      }
    }
    const answer = () => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(JSON.stringify(status === 200 ? { ok: true } : { ok: false, error }));
    };
    // A body (a cron job posting its output) is not read, only dropped after the answer, so the sender sees it.
    if (req.readableEnded) answer();
    else answerThenDrop(req, res, answer);
    return true;
  };
}
