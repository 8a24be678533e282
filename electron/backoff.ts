import { backoffDelay } from '../base/backoff.js';

/**
 * When to restart the engine after it died: quickly the first time, doubling up to a minute, with jitter so a
 * crash loop does not spin the CPU; a run that lasted long enough counts as healthy and resets the count.
 */
export const HEALTHY_RUN_MS = 60_000;
const BASE_MS = 500;
const MAX_MS = 60_000;

export function restartDelayMs(consecutiveFailures: number, random: () => number = Math.random): number {
  return backoffDelay(consecutiveFailures, BASE_MS, MAX_MS, random);
}

/** The failure count after a run of `ranMs` ended: a long healthy run starts counting again from one. */
export function failuresAfterExit(previous: number, ranMs: number): number {
  return ranMs >= HEALTHY_RUN_MS ? 1 : previous + 1;
}
