import type { Store } from '../core/store/index.js';
import type { ConfigDocument } from '../core/config/schema.js';
import type { Logger } from '../core/log.js';

const DAY = 86_400_000;

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
      for (const m of special) {
        deleted += this.store.events.deleteOlderThan(new Date(now - m.retentionDays! * DAY).toISOString(), { source: m.id });
      }
      deleted += this.store.events.deleteOlderThan(new Date(now - cfg.settings.retentionDays * DAY).toISOString(), { exceptSources: special.map((m) => m.id) });
      // Notifications and their fates live as long as the longest-kept events, so an event still stored always has
      // its "why" (and a notification its event, as far as that source's retention allows).
      const longest = Math.max(cfg.settings.retentionDays, ...special.map((m) => m.retentionDays!));
      deleted += this.store.tx(() => this.store.notifications.pruneOlderThan(now - longest * DAY));
      this.store.outbox.prune(new Date(now - 7 * DAY).toISOString(), new Date(now - 30 * DAY).toISOString());
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
