/**
 * The engine's one timer: every temporal deadline (absence, after-absence, digest) goes into this min-heap, and the
 * caller arms a single OS timer for `peek()`. Entries are never removed in place; a re-armed deadline simply
 * leaves a stale entry behind that the engine recognises (the state no longer holds that deadline) and skips.
 * A heap rather than a hashed wheel because replay needs exact deadlines in event time, not tick-rounded ones.
 */
export interface TimerEntry {
  at: number;
  ruleId: string;
  kind: 'absent' | 'after' | 'digest';
  key: string;
  /** Insertion order: deadlines that fall on the same instant fire in the order they were set. */
  seq: number;
}

const before = (a: TimerEntry, b: TimerEntry) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

export class TimerHeap {
  private heap: TimerEntry[] = [];

  get size(): number {
    return this.heap.length;
  }

  private seq = 0;

  /** Take the next insertion number now, for an entry that may be queued later (see `push`). */
  nextSeq(): number {
    return this.seq++;
  }

  /** Queue an entry; `seq` (from `nextSeq`) places it as if it had been queued when that number was taken. */
  push(entry: Omit<TimerEntry, 'seq'> & { seq?: number | undefined }): void {
    const t: TimerEntry = { at: entry.at, ruleId: entry.ruleId, kind: entry.kind, key: entry.key, seq: entry.seq ?? this.seq++ };
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(t, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = t;
  }

  peek(): TimerEntry | undefined {
    return this.heap[0];
  }

  pop(): TimerEntry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      const n = h.length;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const c = l + 1 < n && before(h[l + 1]!, h[l]!) ? l + 1 : l;
        if (!before(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  clear(): void {
    this.heap = [];
  }
}
