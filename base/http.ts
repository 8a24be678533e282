// Shared plumbing (base/): imports nothing of Panoptes outside base/.
import { certificateProblem } from './tls.js';

export interface FetchOptions extends RequestInit {
  /** Abort after this long (default 30 s). */
  timeoutMs?: number;
  /** Refuse bodies larger than this (default 10 MiB). */
  maxBytes?: number;
}

export interface FetchResult {
  status: number;
  ok: boolean;
  url: string;
  headers: Headers;
  body: Buffer;
}


/** What one HTTP exchange may take and bring back unless the caller says otherwise (fetch and HttpClient alike). */
export const DEFAULT_TIMEOUT = 30_000;
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
export const USER_AGENT = 'Panoptes/0.1 (+personal automation; https://github.com/panoptes)';

export class HttpError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    /** Set when the body was refused for its size: the cap, and the size the server declared if it did. */
    readonly tooLarge?: { limit: number; declared?: number },
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/**
 * fetch with what a monitor needs: a timeout covering the whole exchange (a slow drip counts), a body size cap
 * checked while reading (a huge body is refused without buffering it), decompression (gzip/deflate/br by
 * undici) and redirects. Errors carry a one-line human reason.
 */
export async function boundedFetch(url: string, options: FetchOptions = {}, outer?: AbortSignal): Promise<FetchResult> {
  const { timeoutMs = DEFAULT_TIMEOUT, maxBytes = DEFAULT_MAX_BYTES, ...init } = options;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new HttpError(`timed out after ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
  const onOuter = () => controller.abort(outer?.reason ?? new Error('stopped'));
  outer?.addEventListener('abort', onOuter, { once: true });
  if (init.signal) init.signal.addEventListener('abort', onOuter, { once: true });
  const headers = new Headers(init.headers);
  if (!headers.has('user-agent')) headers.set('user-agent', USER_AGENT);
  try {
    let res: Response;
    const attempt = () => fetch(url, { redirect: 'follow', ...init, headers, signal: controller.signal });
    try {
      res = await attempt();
    } catch (err) {
      // A kept-alive connection the server closed just as the request went out (its idle timeout racing ours) is
      // reset before any answer; a GET or HEAD is sent once more on a fresh one, as browsers do, rather than
      // failing the check.
      if (controller.signal.aborted || !resetBeforeAnswer(err) || !['GET', 'HEAD'].includes((init.method ?? 'GET').toUpperCase())) throw new HttpError(describeFetchError(url, err, controller.signal));
      try {
        res = await attempt();
      } catch (again) {
        throw new HttpError(describeFetchError(url, again, controller.signal));
      }
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      await res.body?.cancel().catch(() => {});
      throw new HttpError(`response too large: ${declared} bytes (limit ${maxBytes})`, res.status, { limit: maxBytes, declared });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      if (res.body) {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          size += chunk.byteLength;
          if (size > maxBytes) {
            controller.abort();
            throw new HttpError(`response too large: more than ${maxBytes} bytes`, res.status, { limit: maxBytes });
          }
          chunks.push(Buffer.from(chunk));
        }
      }
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(describeFetchError(url, err, controller.signal));
    }
    return { status: res.status, ok: res.ok, url: res.url || url, headers: res.headers, body: Buffer.concat(chunks) };
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
}

function describeFetchError(url: string, err: unknown, signal: AbortSignal): string {
  if (signal.aborted) {
    const r = signal.reason;
    return r instanceof Error ? r.message : 'aborted';
  }
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  let host = url;
  try {
    host = new URL(url).host;
  } catch {
    return `not a valid URL: ${url}`;
  }
  return networkErrorText(host, e?.cause?.code, e?.cause?.message ?? e?.message ?? String(err));
}

function resetBeforeAnswer(err: unknown): boolean {
  const code = (err as { cause?: { code?: string } })?.cause?.code;
  return code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE';
}

/** A failed request in one line a user understands, from the error's code (Node's or undici's). */
export function networkErrorText(host: string, code: string | undefined, message: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${host}`;
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return `connection to ${host} was reset`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve host ${host}`;
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return `${host} did not answer in time`;
    default:
      // OpenSSL's words ("unable to verify the first certificate") say nothing about what to do.
      return certificateProblem({ code, message }, host, undefined, { caFileField: false })?.message ?? `request to ${host} failed: ${message}`;
  }
}
