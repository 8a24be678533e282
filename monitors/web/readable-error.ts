/**
 * One line a user can act on, from whatever fetch threw: Node's fetch hides the real reason (ECONNRESET,
 * ECONNREFUSED, a timeout) in `cause`, and "fetch failed" alone helps nobody.
 */
export function readableError(err: unknown, url: string): Error {
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string }; tooLarge?: { limit: number; declared?: number } };
  if (e?.tooLarge) return new Error(pageTooLarge(e.tooLarge.limit, e.tooLarge.declared));
  // The host's fetch already words its errors for people.
  if (e?.name === 'HttpError' && err instanceof Error) return err;
  const host = safeHost(url);
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return new Error(`${host} did not answer in time`);
  const code = e?.cause?.code ?? e?.code;
  const reasons: Record<string, string> = {
    ECONNRESET: 'closed the connection unexpectedly',
    ECONNREFUSED: 'refused the connection (is it running?)',
    ENOTFOUND: 'is not a known host name',
    EAI_AGAIN: 'could not be looked up (DNS)',
    ETIMEDOUT: 'did not answer in time',
    UND_ERR_SOCKET: 'closed the connection unexpectedly',
    UND_ERR_HEADERS_TIMEOUT: 'did not answer in time',
    UND_ERR_BODY_TIMEOUT: 'stopped sending in the middle of the answer',
  };
  if (code && reasons[code]) return new Error(`${host} ${reasons[code]}`);
  const detail = e?.cause?.message ?? e?.message ?? String(err);
  return new Error(`${host}: ${detail}`);
}

/** The most a watched page may have, plain or rendered, checked or picked on. */
export const MAX_PAGE_BYTES = 5 * 1024 * 1024;

/**
 * The one sentence for a page over the size limit, whichever way it was fetched (plain, or by a browser through the
 * checking proxy) — `what` names it otherwise when it is the page as a browser built it, not as it was sent.
 */
export function pageTooLarge(limit: number, declared?: number, what = 'the page'): string {
  const said = declared !== undefined ? ` (it says ${mib(declared)})` : '';
  return `${what} is larger than the ${mib(limit)} a page may have${said}; not read`;
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MiB` : `${Math.round(bytes / 1024)} KiB`;
}
