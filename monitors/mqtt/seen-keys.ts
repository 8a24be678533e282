// The idempotency keys of the last messages taken in, so a repeat (a publisher's retry after a lost PUBACK, a
// Panoptes action run twice across a crash) is dropped, also after a restart.
import type { MonitorState } from '../../core/monitor.js';

/** A repeat within the last this-many keyed messages is dropped. */
export const MAX_REMEMBERED_KEYS = 2_000;
const slotKey = (slot: number) => `idempotencyKey.${slot}`;
/** Where an earlier version kept the whole list in one value (rewritten with every message); read once, then removed. */
const LEGACY_KEY = 'idempotencyKeys';

/**
 * Kept in the monitor's state as a ring, one small row per message: slot `n % capacity` holds `[n, key]` and is
 * overwritten when the ring comes round, so each message writes one row (in its event's transaction) and the state
 * stays `capacity` rows, instead of a list of every key rewritten with every message.
 */
export class SeenKeys {
  private readonly bySlot: (string | undefined)[] = [];
  private readonly seen = new Set<string>();
  private next = 0;

  constructor(private readonly state: MonitorState | null, private readonly capacity = MAX_REMEMBERED_KEYS) {
    if (!state) return;
    // Slots fill from 0 up, so the first empty one ends what was ever written.
    for (let slot = 0; slot < capacity; slot++) {
      const row = state.get<[number, string]>(slotKey(slot));
      if (!row) break;
      this.bySlot[slot] = row[1];
      this.seen.add(row[1]);
      this.next = Math.max(this.next, row[0] + 1);
    }
    const legacy = state.get<string[]>(LEGACY_KEY);
    if (legacy) {
      for (const key of legacy.slice(-capacity)) {
        if (this.has(key)) continue;
        const entry = this.entry(key);
        for (const [k, v] of Object.entries(entry.state)) state.set(k, v);
        entry.taken();
      }
      state.delete(LEGACY_KEY);
    }
  }

  has(key: string): boolean {
    return this.seen.has(key);
  }

  /**
   * The state row recording `key`, to save with its event; `taken()` once that is stored (a message whose event
   * failed to store is not acknowledged, and its redelivery must be taken in).
   */
  entry(key: string): { state: Record<string, unknown>; taken(): void } {
    const n = this.next;
    const slot = n % this.capacity;
    return {
      state: { [slotKey(slot)]: [n, key] },
      taken: () => {
        const old = this.bySlot[slot];
        if (old !== undefined) this.seen.delete(old);
        this.bySlot[slot] = key;
        this.seen.add(key);
        this.next = n + 1;
      },
    };
  }
}
