import type { NewEvent, PanoptesEvent, StoredEvent } from '../core/event.js';
import { normalizeNewEvent } from '../core/event.js';
import { newId } from '../core/ids.js';
import type { Store } from '../core/store/index.js';
import type { Logger } from '../core/log.js';

/** How long stored events wait before they are added to the full-text index (see scheduleIndexing). */
const INDEX_AFTER_MS = 200;

interface Pending {
  event: PanoptesEvent;
  /** Monitor state to write in the same transaction as the event. */
  state?: Record<string, unknown>;
  resolve: (e: StoredEvent | null) => void;
  reject: (err: Error) => void;
}

/** What work done inside another's transaction leaves to do once that transaction has committed, or rolled back. */
export interface AfterCommit {
  committed(): void;
  rolledBack(): void;
}

/** Both, in order (either may be null). */
export function bothAfter(a: AfterCommit | null, b: AfterCommit | null): AfterCommit | null {
  if (!a || !b) return a ?? b;
  return {
    committed: () => {
      a.committed();
      b.committed();
    },
    rolledBack: () => {
      a.rolledBack();
      b.rolledBack();
    },
  };
}

/**
 * Monitors' emits are gathered until the event loop's next I/O poll has run, and written in one transaction: durable
 * (WAL, synchronous=FULL) before any emit resolves, and cheap at bursts. After each commit the listeners learn of the
 * new events (UI pushes, the rules processor).
 */
export class EventWriter {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly onStored: (events: StoredEvent[]) => void,
    /**
     * Called inside the append's transaction with the events it stored: work derived from them that can share the
     * commit (the rules processor, when it is caught up), instead of a transaction of its own after it.
     */
    private readonly withAppended?: (events: StoredEvent[]) => AfterCommit | null,
  ) {}

  /** Events are queued for a commit that has not run yet. */
  get pending(): boolean {
    return this.scheduled;
  }

  /** From a monitor: the store assigns id, receivedAt and source. */
  emit(source: string, input: NewEvent, state?: Record<string, unknown>): Promise<StoredEvent | null> {
    let event: PanoptesEvent;
    try {
      const n = normalizeNewEvent(input, (parts) => this.log.warn(`an event from ${source} was larger than an event may be; cut (each says so where it was cut): ${parts.join(', ')}`));
      event = { id: newId(), receivedAt: new Date().toISOString(), source, ...n };
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue(event, state);
  }

  /** An event made elsewhere (another machine, an import): its id is kept, so a redelivery is dropped. */
  ingest(event: PanoptesEvent): Promise<StoredEvent | null> {
    return this.enqueue(event);
  }

  private enqueue(event: PanoptesEvent, state?: Record<string, unknown>): Promise<StoredEvent | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ event, resolve, reject, ...(state ? { state } : {}) });
      if (!this.scheduled) {
        this.scheduled = true;
        // The commit waits for the next I/O poll: under sustained input the requests that arrived while the last
        // commit was on its way to disk are read there and share this commit, instead of splitting into two groups
        // that alternate (16 webhook requests in flight were committed 8 at a time). Fewer commits means fewer
        // fsyncs and fewer log pages per event; the wait is one turn of the loop (microseconds when idle).
        setImmediate(() => setImmediate(() => this.flush()));
      }
    });
  }

  /** Write one event now, inside the caller's transaction (flag changes made while processing rules). */
  appendNow(source: string, input: NewEvent): StoredEvent | null {
    const n = normalizeNewEvent(input);
    const stored = this.store.events.append([{ id: newId(), receivedAt: new Date().toISOString(), source, ...n }]);
    if (stored.length) {
      this.scheduleIndexing();
      queueMicrotask(() => this.onStored(stored));
    }
    return stored[0] ?? null;
  }

  private indexing = false;

  /**
   * Full-text indexing runs shortly after the durable append, in its own transactions, a slice at a time. It waits
   * INDEX_AFTER_MS so a burst is indexed in a few transactions instead of one per turn; nobody sees the difference,
   * because a search first indexes whatever is still pending.
   */
  scheduleIndexing(afterMs = INDEX_AFTER_MS): void {
    if (this.indexing) return;
    this.indexing = true;
    setTimeout(() => {
      this.indexing = false;
      try {
        if (this.store.events.indexPending(2_000) >= 2_000) this.scheduleIndexing(0);
      } catch (err) {
        if ((err as Error).message.includes('not open')) return;
        this.log.warn(`full-text indexing failed, will retry: ${(err as Error).message}`);
        this.scheduleIndexing(1_000);
      }
    }, afterMs).unref?.();
  }

  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (!batch.length) return;
    let stored: StoredEvent[];
    let after: AfterCommit | null = null;
    try {
      stored = this.store.tx(() => {
        const out = this.store.events.append(batch.map((p) => p.event));
        for (const p of batch) {
          if (!p.state) continue;
          const st = this.store.monitorState.forMonitor(p.event.source);
          for (const [k, v] of Object.entries(p.state)) st.set(k, v);
        }
        if (this.withAppended) after = this.withAppended(out);
        return out;
      });
    } catch (err) {
      (after as AfterCommit | null)?.rolledBack();
      this.log.error(`could not store ${batch.length} events: ${(err as Error).message}`);
      batch.forEach((p) => p.reject(err as Error));
      return;
    }
    this.scheduleIndexing();
    const byId = new Map(stored.map((e) => [e.id, e]));
    batch.forEach((p) => p.resolve(byId.get(p.event.id) ?? null));
    (after as AfterCommit | null)?.committed();
    if (stored.length) this.onStored(stored);
  }
}
