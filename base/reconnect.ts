import { backoffDelay } from './backoff.js';
import { sleep } from './sleep.js';

export interface ReconnectOptions {
  /** Ends the loop (a session should close its connection when it aborts). */
  signal: AbortSignal;
  /** The usual wait between attempts: from `baseMs` (default 1 s), doubling to `capMs` (default 5 min), with jitter. */
  baseMs?: number;
  capMs?: number;
  /** A wait of its own for some failures (a refused password or certificate: slowly); undefined for the usual one. */
  delayFor?: (failure: Error, failures: number) => number | undefined;
  /** Told of every lost or failed connection, with the wait before the next attempt. */
  onDown?: (failure: Error, retryInMs: number) => void;
}

/**
 * One connection's life: connect, call `up()` once connected (that resets the failure count), serve, and settle
 * when the connection ends: resolve (with why it closed, when known) or reject (why it failed).
 */
export type Session = (signal: AbortSignal, up: () => void) => Promise<Error | void>;

/**
 * The loop every long-lived connection runs (mail IDLE, IRC, the Mastodon stream): a session, and after it ends
 * for any reason a backoff wait, then the next session, until the signal aborts. Resolves once aborted.
 */
export async function reconnectLoop(session: Session, options: ReconnectOptions): Promise<void> {
  const { signal, baseMs = 1_000, capMs = 5 * 60_000 } = options;
  let failures = 0;
  const up = () => void (failures = 0);
  while (!signal.aborted) {
    let failure: Error;
    try {
      const why = await session(signal, up);
      if (signal.aborted) return;
      failure = why ?? new Error('connection closed');
    } catch (err) {
      if (signal.aborted) return;
      failure = err instanceof Error ? err : new Error(String(err));
    }
    failures++;
    const delay = options.delayFor?.(failure, failures) ?? backoffDelay(failures, baseMs, capMs);
    options.onDown?.(failure, delay);
    await sleep(delay, signal);
  }
}
