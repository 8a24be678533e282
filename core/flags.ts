import type { Store } from './store/index.js';
import type { FlagState } from './protocol.js';
import type { Clock } from './clock.js';
import type { NewEvent } from './event.js';
import { parseDuration } from './duration.js';

export const FLAG_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/**
 * Context flags: named booleans (away, dnd, focus, …) with optional expiry, kept in the store. Every change is
 * itself an event (`flag.set` / `flag.cleared`), so rules can react to flags and history shows them.
 * `values()` is synchronous: a flag set by one rule's action is visible to the very next event.
 */
export class FlagManager {
  private timer: NodeJS.Timeout | null = null;
  private cache: Map<string, FlagState>;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly emit: (event: NewEvent) => void,
    private readonly onChange: (flags: FlagState[]) => void = () => {},
  ) {
    this.cache = new Map(store.flags.all().map((f) => [f.name, f]));
  }

  /** Current flags as the rules engine sees them (expired ones are cleared first). */
  values(): Record<string, boolean> {
    this.expireDue();
    const out: Record<string, boolean> = {};
    for (const name of this.cache.keys()) out[name] = true;
    return out;
  }

  list(): FlagState[] {
    this.expireDue();
    return [...this.cache.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  isSet(name: string): boolean {
    this.expireDue();
    return this.cache.has(name);
  }

  set(name: string, opts: { for?: string | number | null; by?: string | null } = {}): FlagState {
    if (!FLAG_NAME.test(name)) throw new Error(`"${name}" is not a valid flag name (letters, digits, . _ -; starting with a letter)`);
    const now = this.clock.now();
    const ms = opts.for === undefined || opts.for === null ? null : typeof opts.for === 'number' ? opts.for : parseDuration(opts.for);
    const state: FlagState = {
      name,
      value: true,
      setAt: new Date(now).toISOString(),
      expiresAt: ms === null ? null : new Date(now + ms).toISOString(),
      setBy: opts.by ?? null,
    };
    const wasSet = this.cache.has(name);
    this.store.flags.upsert(state);
    this.cache.set(name, state);
    this.emit({
      type: 'flag.set',
      ts: new Date(now),
      title: `${name} ${wasSet ? 'extended' : 'on'}${state.expiresAt ? ` until ${state.expiresAt}` : ''}`,
      fields: { flag: name, expiresAt: state.expiresAt, setBy: state.setBy },
      tags: ['flag'],
    });
    this.changed();
    return state;
  }

  clear(name: string, by: string | null = null, reason: 'cleared' | 'expired' = 'cleared'): boolean {
    if (!this.cache.has(name)) return false;
    this.store.flags.remove(name);
    this.cache.delete(name);
    this.emit({
      type: 'flag.cleared',
      ts: new Date(this.clock.now()),
      title: `${name} off${reason === 'expired' ? ' (expired)' : ''}`,
      fields: { flag: name, reason, clearedBy: by },
      tags: ['flag'],
    });
    this.changed();
    return true;
  }

  toggle(name: string, opts: { for?: string | number | null; by?: string | null } = {}): boolean {
    if (this.isSet(name)) {
      this.clear(name, opts.by ?? null);
      return false;
    }
    this.set(name, opts);
    return true;
  }

  private expireDue(): void {
    const now = this.clock.now();
    for (const f of [...this.cache.values()]) {
      if (f.expiresAt && Date.parse(f.expiresAt) <= now) this.clear(f.name, null, 'expired');
    }
  }

  private changed(): void {
    this.schedule();
    this.onChange(this.list());
  }

  /** One timer for the nearest expiry, so an expired flag clears (and says so) even with no events flowing. */
  schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const next = Math.min(...[...this.cache.values()].map((f) => (f.expiresAt ? Date.parse(f.expiresAt) : Infinity)));
    if (!Number.isFinite(next)) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.expireDue();
      this.schedule();
    }, Math.max(0, Math.min(next - this.clock.now(), 2 ** 31 - 1)));
    this.timer.unref?.();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
