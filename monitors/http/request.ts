// One HTTP(S) exchange for a check, on node:http rather than fetch: a check needs what fetch hides — the time to the
// last byte, each redirect hop (to count them and to keep credentials to the first origin), a private CA per check,
// and a kept-alive agent per check so a thousand checks a minute cost little CPU.
import http from 'node:http';
import https from 'node:https';
import { certificateProblem } from '../../base/tls.js';

export interface CheckRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string | undefined;
  /** Sent only to the first URL's origin, never to where a redirect leads elsewhere. */
  authorization?: string | undefined;
  followRedirects: boolean;
  maxRedirects: number;
  timeoutMs: number;
  maxBytes: number;
  signal: AbortSignal;
}

export interface CheckResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The URL that gave the final answer. */
  url: string;
  redirects: number;
  /** From sending the first request to the last byte of the final body. */
  ms: number;
  /** The body was longer than maxBytes and was cut there (keyword and JSON checks see only the start). */
  truncated: boolean;
}

export interface Agents {
  http: http.Agent;
  https: https.Agent;
  destroy(): void;
}

export function makeAgents(tls: { ca?: Buffer | undefined; rejectUnauthorized: boolean }): Agents {
  const h = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const s = new https.Agent({ keepAlive: true, maxSockets: 4, ca: tls.ca, rejectUnauthorized: tls.rejectUnauthorized });
  return { http: h, https: s, destroy: () => (h.destroy(), s.destroy()) };
}

const REDIRECT = new Set([301, 302, 303, 307, 308]);

class StaleSocket extends Error {}

export async function checkRequest(req: CheckRequest, agents: Agents): Promise<CheckResponse> {
  const started = performance.now();
  const deadline = AbortSignal.any([req.signal, AbortSignal.timeout(req.timeoutMs)]);
  const firstOrigin = new URL(req.url).origin;
  let url = req.url;
  let method = req.method;
  let body = req.body;
  for (let hops = 0; ; hops++) {
    const headers: Record<string, string> = { 'user-agent': 'Panoptes check', ...req.headers };
    if (req.authorization && new URL(url).origin === firstOrigin) headers['authorization'] = req.authorization;
    if (body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await exchange(url, method, headers, body, req, agents, deadline, req.timeoutMs);
    } catch (err) {
      if (!(err instanceof StaleSocket)) throw err;
      res = await exchange(url, method, headers, body, req, agents, deadline, req.timeoutMs);
    }
    const location = res.headers.location;
    if (req.followRedirects && REDIRECT.has(res.status) && location) {
      if (hops >= req.maxRedirects) throw new Error(`more than ${req.maxRedirects} redirects (last to ${location})`);
      url = new URL(location, url).href;
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
      continue;
    }
    return { ...res, url, redirects: hops, ms: Math.round((performance.now() - started) * 10) / 10 };
  }
}

function exchange(url: string, method: string, headers: Record<string, string>, body: string | undefined, req: CheckRequest, agents: Agents, signal: AbortSignal, timeoutMs: number): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; truncated: boolean }> {
  const u = new URL(url);
  const secure = u.protocol === 'https:';
  if (!secure && u.protocol !== 'http:') return Promise.reject(new Error(`redirected to ${u.protocol} address ${url}, not http(s)`));
  const lib = secure ? https : http;
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(reason(signal, u.host, timeoutMs));
    const r = lib.request(u, { method, headers, agent: secure ? agents.https : agents.http, signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      res.on('data', (c: Buffer) => {
        if (truncated) return;
        if (size + c.length > req.maxBytes) {
          chunks.push(c.subarray(0, req.maxBytes - size));
          truncated = true;
          size = req.maxBytes;
          // Enough read: the rest is not needed, and a server streaming forever must not hold the check.
          res.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated });
          return;
        }
        size += c.length;
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated }));
      res.on('error', (err) => reject(readable(err, u.host, signal, timeoutMs)));
      res.on('aborted', () => reject(signal.aborted ? reason(signal, u.host, timeoutMs) : new Error(`${u.host} closed the connection mid-answer`)));
    });
    r.on('error', (err: NodeJS.ErrnoException) => {
      // A kept-alive socket the server closed just as we reused it (its idle timeout, often 5 s, against our
      // interval): not the server being down. Node's documented remedy is to retry once on a fresh socket.
      if (r.reusedSocket && !signal.aborted && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) return reject(new StaleSocket());
      reject(readable(err, u.host, signal, timeoutMs));
    });
    if (body !== undefined) r.write(body);
    r.end();
  });
}

function reason(signal: AbortSignal, host: string, timeoutMs: number): Error {
  const r = signal.reason as { name?: string } | undefined;
  if (r?.name === 'TimeoutError') return new Error(`no answer from ${host} within ${timeoutMs / 1000} s`);
  return r instanceof Error ? r : new Error('stopped');
}

function readable(err: unknown, host: string, signal: AbortSignal, timeoutMs: number): Error {
  if (signal.aborted) return reason(signal, host, timeoutMs);
  const cert = certificateProblem(err, host);
  if (cert) return cert;
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ECONNREFUSED':
      return new Error(`connection refused by ${host}`);
    case 'ECONNRESET':
      return new Error(`connection to ${host} was reset`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new Error(`cannot resolve host ${host}`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new Error(`${host} is unreachable`);
    case 'ETIMEDOUT':
      return new Error(`${host} did not answer in time`);
    default:
      return new Error(`request to ${host} failed: ${(err as Error).message}`);
  }
}
