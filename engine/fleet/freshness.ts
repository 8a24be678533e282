// Freshness of what an agent keeps retained on the broker: its status and its configuration state. A signature says
// who said a message, not when: a broker user who recorded one can publish it again, retained, long after the agent
// said something newer, and it still verifies (a stopped machine shown online, a configuration it no longer has).
// So each carries a stamp inside the signed bytes — an epoch and a count — and the desktop keeps, per agent and kind,
// the highest stamp it took (in its store: a restart of the desktop must not make it take an old one again, which is
// exactly what the broker hands it first) and refuses anything older.
//
// Epochs must be ordered across the agent's restarts: each is max(the last one + 1, the time now in ms), the last one
// kept in the agent's store. The saved one keeps it increasing when the clock is set back; the clock keeps it
// increasing when the store was lost. A status's last will is the odd one: the broker publishes it when the connection
// dies, after every status said on that connection, but it is written when the connection starts. So every connection
// starts a new epoch, and its will (and its goodbye) carries the highest count of that epoch, LAST.
import type { KvTable } from '../../core/store/misc-stores.js';

export interface Stamp {
  /** The epoch: a new one per process (configuration state) or per broker connection (status). */
  e: number;
  /** The count within the epoch. */
  n: number;
}

/** The count of an epoch's last word (a will, a goodbye): above every status said on that connection. */
export const LAST = Number.MAX_SAFE_INTEGER;

type Kv = Pick<KvTable, 'get' | 'set'>;

/** The agent's side: hands out increasing stamps for one kind of message. */
export class StampClock {
  private e = 0;
  private n = 0;

  constructor(private readonly kv: Kv, private readonly key: string, private readonly warn: (m: string) => void = () => {}) {}

  /** Start a new epoch: above every earlier one, also of earlier runs. */
  newEpoch(): void {
    let saved = 0;
    try {
      saved = Number(this.kv.get<number>(this.key)) || 0;
    } catch {
      /* the store is closing: the clock and this run's last epoch still order it */
    }
    this.e = Math.max(saved + 1, this.e + 1, Date.now());
    this.n = 0;
    try {
      this.kv.set(this.key, this.e);
    } catch (err) {
      this.warn(`could not save the epoch of what this agent says (${(err as Error).message}); the clock orders it`);
    }
  }

  next(): Stamp {
    if (!this.e) this.newEpoch();
    this.n = Math.min(this.n + 1, LAST - 1);
    return { e: this.e, n: this.n };
  }

  /** The last word of this epoch (after it only a new epoch speaks). */
  last(): Stamp {
    if (!this.e) this.newEpoch();
    return { e: this.e, n: LAST };
  }
}

/** The stamp of a message as JSON text (already verified), or null when it carries none (an agent older than stamps). */
export function stampOf(text: string): Stamp | null {
  try {
    const s = (JSON.parse(text) as { stamp?: unknown }).stamp as Partial<Stamp> | undefined;
    return s && Number.isSafeInteger(s.e) && Number.isSafeInteger(s.n) && s.e! > 0 && s.n! > 0 ? { e: s.e!, n: s.n! } : null;
  } catch {
    return null;
  }
}

const BOOK_KEY = 'fleet:freshness';

interface Entry {
  /** The agent key the stamp came with: an agent deployed again with a new key starts afresh. */
  key: string;
  e: number;
  n: number;
}

/** The desktop's side: the highest stamp taken per agent and kind of message, kept in the store. */
export class FreshnessBook {
  private readonly book = new Map<string, Entry>();

  constructor(private readonly kv: Kv) {
    try {
      const saved = kv.get<Record<string, Entry>>(BOOK_KEY);
      if (saved && typeof saved === 'object') {
        for (const [k, v] of Object.entries(saved)) {
          if (v && typeof v.key === 'string' && Number.isSafeInteger(v.e) && Number.isSafeInteger(v.n)) this.book.set(k, { key: v.key, e: v.e, n: v.n });
        }
      }
    } catch {
      /* nothing saved */
    }
  }

  /**
   * May this verified message (`what` of `agentId`, signed with `keyText`) be taken as the agent's current one? It
   * may when it is not older than the newest taken; taking it makes it the newest. The same stamp again is taken (the
   * broker hands the retained message over on every connection).
   */
  check(agentId: string, what: string, keyText: string, stamp: Stamp | null): { ok: true } | { ok: false; message: string } {
    const k = `${agentId} ${what}`;
    const had = this.book.get(k);
    const known = had && had.key === keyText ? had : null;
    if (!stamp) {
      if (!known) return { ok: true };
      return { ok: false, message: `an older ${what} of ${agentId} was refused: it carries no stamp of when it was said, and ${agentId} has stamped its ${what} since it was upgraded — someone on the broker published one recorded before that` };
    }
    if (known && (stamp.e < known.e || (stamp.e === known.e && stamp.n < known.n))) {
      const when = stamp.e < known.e ? 'in an earlier run or connection of the agent' : 'earlier in the same connection';
      return { ok: false, message: `an older ${what} of ${agentId} was refused: it was said ${when} than the one already taken, so it is not what ${agentId} says now — someone on the broker published a recorded one again, or it arrived late` };
    }
    if (!known || stamp.e !== known.e || stamp.n !== known.n) {
      this.book.set(k, { key: keyText, e: stamp.e, n: stamp.n });
      try {
        this.kv.set(BOOK_KEY, Object.fromEntries(this.book));
      } catch {
        /* the store is closing: this run still remembers it */
      }
    }
    return { ok: true };
  }

}
