/**
 * How long to wait before the next attempt after `failures` failures in a row: `baseMs` after the first, doubling
 * up to `capMs`, with ±20 % jitter so many clients that failed together do not retry together. Every retry loop of
 * Panoptes (monitor restarts, reconnects, the engine process) waits this way. Pass `random: () => 0.5` for no jitter.
 */
export function backoffDelay(failures: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const raw = Math.min(capMs, baseMs * 2 ** Math.min(Math.max(0, failures - 1), 40));
  return Math.min(capMs, Math.round(raw * (0.8 + 0.4 * random())));
}
