// Mastodon's streaming API over server-sent events: a long-lived GET that delivers `update` (a status) and
// `notification` events as they happen. A silent stream (no heartbeat) counts as dead and is reopened.
export interface StreamEvent {
  event: string;
  data: string;
}

const SILENCE_MS = 90_000; // Mastodon sends a heartbeat comment every ~15 s

/**
 * Open the stream and call `onEvent` for each event until it ends; resolves when the server closes it,
 * rejects on HTTP errors (with `status` set) or network errors. `onOpen` runs once the server accepted it.
 */
export async function readStream(url: string, headers: Record<string, string>, signal: AbortSignal, onOpen: () => void, onEvent: (e: StreamEvent) => void): Promise<void> {
  const local = new AbortController();
  const stop = () => local.abort();
  signal.addEventListener('abort', stop, { once: true });
  let silence: NodeJS.Timeout | null = null;
  const touch = () => {
    if (silence) clearTimeout(silence);
    silence = setTimeout(() => local.abort(new Error('the stream went silent')), SILENCE_MS);
  };
  try {
    touch();
    const res = await fetch(url, { headers: { ...headers, accept: 'text/event-stream' }, signal: local.signal, redirect: 'follow' });
    if (res.status !== 200 || !res.body) {
      const err = new Error(`streaming not available (${res.status})`) as Error & { status?: number };
      err.status = res.status;
      await res.body?.cancel().catch(() => {});
      throw err;
    }
    onOpen();
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      touch();
      buffer += decoder.decode(chunk, { stream: true });
      if (buffer.length > 4 * 1024 * 1024) throw new Error('a streaming event larger than 4 MiB');
      let cut: number;
      while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, '');
        const parsed = parseBlock(block);
        if (parsed) onEvent(parsed);
      }
    }
  } catch (err) {
    if (signal.aborted) return;
    throw local.signal.aborted && local.signal.reason instanceof Error ? local.signal.reason : err;
  } finally {
    if (silence) clearTimeout(silence);
    signal.removeEventListener('abort', stop);
  }
}

function parseBlock(block: string): StreamEvent | null {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (!line || line.startsWith(':')) continue; // comments are heartbeats
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length ? { event, data: data.join('\n') } : null;
}
