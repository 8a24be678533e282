/**
 * Which items are new. An item is known by its guid, else its link, else a hash of title+date — never by position
 * or content, so a reordered feed or an edited old item does not fire again. The memory is bounded: the most
 * recent `limit` keys, plus always every key of the current document (dropping one of those would make it
 * "new" on the next poll).
 */
import { createHash } from 'node:crypto';
import type { FeedEntry } from './parse.js';

export const DEFAULT_SEEN_LIMIT = 5_000;

export function entryKey(entry: Pick<FeedEntry, 'guid' | 'link' | 'title' | 'published'>): string {
  if (entry.guid) return 'g:' + entry.guid;
  if (entry.link) return 'l:' + entry.link;
  return 'h:' + createHash('sha256').update(`${entry.title}\n${entry.published ?? ''}`).digest('base64url').slice(0, 22);
}

export interface SeenDiff<T> {
  /** Entries not seen before, oldest first (feeds list newest first, notifications should not). */
  fresh: T[];
  /** The memory to keep after this poll. */
  nextSeen: string[];
}

/**
 * Compare the current document against what was seen. `seen` is ordered oldest → newest. Keys repeated within
 * one document count once.
 */
export function diffEntries<T extends Pick<FeedEntry, 'guid' | 'link' | 'title' | 'published'>>(entries: T[], seen: readonly string[], limit = DEFAULT_SEEN_LIMIT): SeenDiff<T> {
  const known = new Set(seen);
  const current = new Map<string, T>();
  for (const e of entries) {
    const k = entryKey(e);
    if (!current.has(k)) current.set(k, e);
  }
  const fresh: T[] = [];
  for (const [k, e] of current) if (!known.has(k)) fresh.push(e);
  fresh.reverse();
  return { fresh, nextSeen: remember(seen, [...current.keys()].reverse(), limit) };
}

/** Older keys first, then the current document's (document order reversed, so the top item ends up newest). */
export function remember(seen: readonly string[], currentOldestFirst: readonly string[], limit = DEFAULT_SEEN_LIMIT): string[] {
  const currentSet = new Set(currentOldestFirst);
  const older = seen.filter((k) => !currentSet.has(k));
  const room = Math.max(0, limit - currentOldestFirst.length);
  return [...older.slice(Math.max(0, older.length - room)), ...currentOldestFirst];
}

/** State may have been hand-edited or written by an older version: accept only a list of strings. */
export function readSeen(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
