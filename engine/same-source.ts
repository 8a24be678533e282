/**
 * The one duplicate check for monitors: two monitors of a type watch the same thing when their configs share a
 * source key, as the type declares in its own folder (MonitorDefinition.sources: a feed's address as a URL, a
 * mailbox's server, account and folder…). The monitor form (`monitors.validate`), feed discovery and OPML imports
 * (the protocol's and `panoptes opml import`) all ask it, so they never disagree about what is already watched.
 */
import type { MonitorDefinition } from '../core/monitor.js';
import { parseMonitorConfig } from '../core/monitor-host.js';
import type { MonitorEntry } from '../core/config/schema.js';

/** The source keys of a (raw) config of this type; none when the type declares none or the config does not parse. */
export function sourceKeys(def: MonitorDefinition, config: unknown): string[] {
  if (!def.sources) return [];
  try {
    return def.sources(parseMonitorConfig(def, config));
  } catch {
    return []; // a config this version does not read is not compared
  }
}

/**
 * The first monitor in `monitors` (other than `except`) of the type that shares a source key with `keys`.
 * `secretsOf` completes a stored config with its secrets where a type's keys read one.
 */
export function sameSource(
  def: MonitorDefinition,
  monitors: readonly MonitorEntry[],
  keys: readonly string[],
  opts: { except?: string; secretsOf?: (id: string) => Record<string, string> | undefined } = {},
): MonitorEntry | null {
  if (!keys.length) return null;
  const mine = new Set(keys);
  for (const m of monitors) {
    if (m.type !== def.type || m.id === opts.except) continue;
    if (sourceKeys(def, { ...m.config, ...opts.secretsOf?.(m.id) }).some((k) => mine.has(k))) return m;
  }
  return null;
}
