/**
 * An OPML file's feeds as rss monitors. One piece for the protocol's `monitors.importOpml` and the CLI's
 * `panoptes opml import`, so both make the same monitors, with the same ids and configs, from the same file.
 */
import type { MonitorDefinition } from '../core/monitor.js';
import { monitorIdFor, type MonitorEntry } from '../core/config/schema.js';
import type { OpmlFeed } from './monitor-registry.js';
import { sourceKeys } from './same-source.js';

export interface OpmlImport {
  /** The monitors to add, in the file's order. */
  add: MonitorEntry[];
  /** Addresses already watched by an rss monitor (or earlier in the file), by the rss type's own duplicate check. */
  skipped: string[];
  /** Addresses the rss type's schema refused, with why. */
  refused: { url: string; message: string }[];
}

/** The name a monitor made from an OPML outline gets (its title, else its address). */
export function opmlMonitorName(feed: { title: string; xmlUrl: string }): string {
  return (feed.title || feed.xmlUrl).slice(0, 200).trim();
}

/** What the rss type says about an interval every imported feed would get, or null when it takes it. */
export function opmlIntervalProblem(rss: MonitorDefinition, intervalMinutes: number | undefined): string | null {
  if (intervalMinutes === undefined) return null;
  const checked = rss.configSchema.safeParse(configOf('https://example.org/feed.xml', intervalMinutes));
  if (checked.success) return null;
  const issue = checked.error.issues.find((i) => i.path[0] === 'intervalMinutes') ?? checked.error.issues[0];
  return issue?.message ?? 'invalid';
}

/**
 * The import of `feeds` into a configuration holding `monitors`: one monitor per feed no rss monitor watches yet (by
 * address), named after its outline, with the next id not taken. Its config is what was asked for (the address and
 * the interval, defaults left to the schema, as a monitor added in the UI), checked by the rss type's schema.
 */
export function planOpmlImport(monitors: readonly MonitorEntry[], feeds: readonly OpmlFeed[], rss: MonitorDefinition, intervalMinutes?: number): OpmlImport {
  // The rss type's source keys (its feed's address as a URL), as the monitor form compares them.
  const watched = new Set(monitors.filter((m) => m.type === rss.type).flatMap((m) => sourceKeys(rss, m.config)));
  const taken = new Set(monitors.map((m) => m.id));
  const out: OpmlImport = { add: [], skipped: [], refused: [] };
  for (const f of feeds) {
    const config = configOf(f.xmlUrl, intervalMinutes);
    const keys = sourceKeys(rss, config);
    if (keys.some((k) => watched.has(k))) {
      out.skipped.push(f.xmlUrl);
      continue;
    }
    const checked = rss.configSchema.safeParse(config);
    if (!checked.success) {
      out.refused.push({ url: f.xmlUrl, message: checked.error.issues[0]?.message ?? 'invalid' });
      continue;
    }
    const name = opmlMonitorName(f);
    const id = monitorIdFor(rss.type, name, taken);
    taken.add(id);
    for (const k of keys) watched.add(k);
    out.add.push({ id, type: rss.type, name, enabled: true, config });
  }
  return out;
}

const configOf = (url: string, intervalMinutes: number | undefined): Record<string, unknown> => ({ url, ...(intervalMinutes !== undefined ? { intervalMinutes } : {}) });
