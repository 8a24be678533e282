import { monotonicFactory } from 'ulid';

/** Time-sortable, unique across machines; monotonic within one process even inside one millisecond. */
const nextUlid = monotonicFactory();

export function newId(time: number = Date.now()): string {
  return nextUlid(time);
}
