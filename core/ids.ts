import { monotonicFactory, decodeTime } from 'ulid';

/** Time-sortable, unique across machines; monotonic within one process even inside one millisecond. */
const nextUlid = monotonicFactory();

export function newId(time: number = Date.now()): string {
  return nextUlid(time);
}

export function idTime(id: string): number {
  return decodeTime(id);
}
