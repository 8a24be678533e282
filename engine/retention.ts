import type { Store } from '../core/store/index.js';
import type { ConfigDocument } from '../core/config/schema.js';
import type { Logger } from '../core/log.js';
import type { KvTable } from '../core/store/misc-stores.js';

const DAY = 86_400_000;

/**
 * How far back deleted events reach: events received before `all` (or, of one source, before `sources[id]`) may be
 * gone, and with them the store's memory of their ids. The receiver refuses sealed forwarded events from before it,
 * since it could no longer tell them from a recorded copy published again (engine/fleet/seal.ts).
 */
const FORGOTTEN_KEY = 'retention:forgotten';
interface Forgotten {
  all: number;
  sources: Record<string, number>;
}

function readForgotten(kv: Pick<KvTable, 'get'>): Forgotten {
  const f = kv.get<Partial<Forgotten>>(FORGOTTEN_KEY);
  return { all: typeof f?.all === 'number' ? f.all : 0, sources: f?.sources && typeof f.sources === 'object' ? f.sources : {} };
}

/**
 * Asked for every sealed forwarded event: read from the store once per sweep (a sweep in this process bumps `notes`),
 * not once per event.
 */
let notes = 0;
const known = new WeakMap<object, { notes: number; f: Forgotten }>();

/** Events of `source` received before this time (ms) may have been deleted by retention; 0 when none were. */
export function forgottenBefore(kv: Pick<KvTable, 'get'>, source: string): number {
  let c = known.get(kv);
  if (!c || c.notes !== notes) {
    c = { notes, f: readForgotten(kv) };
    known.set(kv, c);
  }
  const f = c.f;
  // The general sweep leaves out sources with their own retention, but a source may have had none before: the later.
  return Math.max(f.all, f.sources[source] ?? 0);
}

/**
 * Deletes old events per source (its own retention, else the global one) in small batches spread over time,
 * so a big clean-up never blocks the writer or the UI.
 */
export class RetentionSweeper {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly store: Store, private readonly config: () => ConfigDocument, private readonly log: Logger, private readonly everyMs = 10 * 60_000) {}

  start(): void {
    this.schedule(30_000);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => this.sweepSome(), ms);
    this.timer.unref?.();
  }

  /** One batch per source per turn; if anything was deleted, come back soon for the next batch. */
  sweepSome(now = Date.now()): number {
    let deleted = 0;
    try {
      const cfg = this.config();
      const special = cfg.monitors.filter((m) => m.retentionDays);
      // How far back this sweep deletes is noted before it deletes (a crash in between must not forget a deletion):
      // one small write per sweep.
      const forgotten = readForgotten(this.store.kv);
      const cutoffs = special.map((m) => ({ id: m.id, cutoff: now - m.retentionDays! * DAY }));
      const cutoff = now - cfg.settings.retentionDays * DAY;
      for (const c of cutoffs) forgotten.sources[c.id] = Math.max(forgotten.sources[c.id] ?? 0, c.cutoff);
      forgotten.all = Math.max(forgotten.all, cutoff);
      this.store.kv.set(FORGOTTEN_KEY, forgotten);
      notes++;
      for (const c of cutoffs) deleted += this.store.events.deleteOlderThan(new Date(c.cutoff).toISOString(), { source: c.id });
      deleted += this.store.events.deleteOlderThan(new Date(cutoff).toISOString(), { exceptSources: special.map((m) => m.id) });
      // Notifications and their fates live as long as the longest-kept events, so an event still stored always has
      // its "why" (and a notification its event, as far as that source's retention allows).
      const longest = Math.max(cfg.settings.retentionDays, ...special.map((m) => m.retentionDays!));
      deleted += this.store.tx(() => this.store.notifications.pruneOlderThan(now - longest * DAY));
      // Counted, so a sweep that pruned a batch comes back soon: 500 a sweep every ten minutes is fewer than a
      // webhook rule firing every second finishes.
      deleted += this.store.outbox.prune(new Date(now - 7 * DAY).toISOString(), new Date(now - 30 * DAY).toISOString());
    } catch (err) {
      this.log.warn(`retention sweep failed: ${(err as Error).message}`);
    }
    if (this.timer !== null || deleted) this.schedule(deleted ? 200 : this.everyMs);
    return deleted;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
