import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

/**
 * The random part's bytes, drawn from the OS in blocks: ulid's own generator asks `crypto.getRandomValues` for one
 * byte per character (16 calls per id), which was 4 % of the agent's CPU on the webhook bench (#22). The same
 * source (the OS's CSPRNG), read 4 KiB at a time; byte / 256 maps evenly onto the 32 characters.
 */
const pool = new Uint8Array(4096);
let next = pool.length;
function pooledRandom(): number {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++]! / 256;
}

/** Time-sortable, unique across machines; monotonic within one process even inside one millisecond. */
const nextUlid = monotonicFactory(pooledRandom);

export function newId(time: number = Date.now()): string {
  return nextUlid(time);
}
