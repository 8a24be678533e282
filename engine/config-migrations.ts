/**
 * Changes to what Panoptes ships that a configuration written before them should get too. Default rules are seeded
 * once, into a new document, so without this a fix to one of them reaches new users only. Each migration runs once
 * per document, in order, when the engine opens it; the document records the ones it has had (`migrations`), so a
 * user who undoes a change afterwards is not overruled at the next start, and a new document is born with all of
 * them. The document's `version` stays: these change its content, not its format, and an older build (a rolled-back
 * upgrade) keeps reading it (it keeps the `migrations` key as written).
 */
import type { ConfigStore } from '../core/config/config-store.js';
import type { ConfigDocument } from '../core/config/schema.js';
import type { Logger } from '../core/log.js';

export interface ConfigMigration {
  /** Recorded in the document once applied: never renamed or reused. */
  id: string;
  /** For the log: what an existing configuration gains. */
  describe: string;
  apply(doc: ConfigDocument): void;
}

type RuleDoc = { id: string; context?: Record<string, unknown> };

export const CONFIG_MIGRATIONS: readonly ConfigMigration[] = [
  {
    id: 'default-rules-maintenance-gate',
    describe: 'the default "check down" and "heartbeat missed" rules stay quiet during maintenance',
    apply(doc) {
      for (const rule of doc.rules as RuleDoc[]) {
        if (rule.id !== 'default-notify-check-down' && rule.id !== 'default-notify-heartbeat-missed') continue;
        // A gate the user chose (either way) stays; their other context gates stay beside it.
        if (rule.context && 'maintenance' in rule.context) continue;
        rule.context = { ...rule.context, maintenance: false };
      }
    },
  },
];

/** A new document has nothing to catch up on: it is written with today's defaults. */
export function markAllMigrated(doc: ConfigDocument): void {
  doc.migrations = CONFIG_MIGRATIONS.map((m) => m.id);
}

/**
 * Apply the migrations this document has not had, in one save. A document that did not load (the engine runs on the
 * last good copy) is left alone: saving now would set the user's file aside before they mended it.
 */
export async function migrateConfig(config: ConfigStore, log: Logger): Promise<void> {
  const pending = (doc: ConfigDocument) => CONFIG_MIGRATIONS.filter((m) => !doc.migrations?.includes(m.id));
  if (config.loadError || !pending(config.current).length) return;
  let applied: ConfigMigration[] = [];
  try {
    await config.update((draft) => {
      applied = pending(draft);
      for (const m of applied) {
        m.apply(draft);
        draft.migrations = [...(draft.migrations ?? []), m.id];
      }
    });
    for (const m of applied) log.info(`config: ${m.describe} (migration ${m.id})`);
  } catch (err) {
    log.warn(`could not bring the configuration up to date: ${(err as Error).message}; the engine runs on it as it is`);
  }
}
