import { readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MonitorDefinition } from '../core/monitor.js';
import type { Logger } from '../core/log.js';
import type { RuleActionSpec } from '../core/action.js';

// The registry is the one door into the monitor folders from outside monitors/: what the engine and the CLI use
// of a particular type beyond its definition is re-exported here, named.
/**
 * OPML (feed lists) for the rss type: `monitors.importOpml` / `exportOpml` and `panoptes opml`, and feed discovery
 * from a site's address. Loaded on first use: they parse HTML/XML with cheerio, which an idle engine does without.
 */
export type { OpmlFeed } from '../monitors/rss/opml.js';
export type { DiscoveredFeed } from '../monitors/rss/discover.js';
export async function parseOpml(text: string): Promise<import('../monitors/rss/opml.js').OpmlFeed[]> {
  return (await import('../monitors/rss/opml.js')).parseOpml(text);
}
export async function buildOpml(...args: Parameters<typeof import('../monitors/rss/opml.js').buildOpml>): Promise<string> {
  return (await import('../monitors/rss/opml.js')).buildOpml(...args);
}
export async function discoverFeeds(...args: Parameters<typeof import('../monitors/rss/discover.js').discoverFeeds>): ReturnType<typeof import('../monitors/rss/discover.js').discoverFeeds> {
  return (await import('../monitors/rss/discover.js')).discoverFeeds(...args);
}
/** The desktop's idle monitor: OS idle time sampled by the shell and relayed to the engine process. */
export { IdleRelay } from '../monitors/idle/relay.js';
export { createIdleDefinition } from '../monitors/idle/index.js';
/** The desktop's rendered fetch: pages load in the shell's offscreen windows (monitors/web/shell-renderer.ts). */
export { ShellPageRenderer } from '../monitors/web/shell-renderer.js';
export { usePageRenderer } from '../monitors/web/page-renderer.js';

/**
 * Monitor types are discovered from the folders of `monitors/` (each exports its definition as default), so
 * adding a type is adding a folder. A type that fails to load is reported and skipped; the others run.
 */
export async function loadMonitorTypes(log: Logger, dir: URL = new URL('../monitors/', import.meta.url)): Promise<Map<string, MonitorDefinition>> {
  const types = new Map<string, MonitorDefinition>();
  const root = fileURLToPath(dir);
  if (!existsSync(root)) return types;
  const folders = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'shared').map((d) => d.name).sort();
  await Promise.all(
    folders.map(async (name) => {
      const entry = new URL(`${name}/index.js`, dir);
      if (!existsSync(fileURLToPath(entry))) return;
      try {
        const mod = (await import(entry.href)) as { default?: MonitorDefinition };
        const def = mod.default;
        if (!def || typeof def.type !== 'string' || typeof def.create !== 'function' || !def.configSchema) {
          log.warn(`monitors/${name}: no monitor definition exported as default; skipped`);
          return;
        }
        types.set(def.type, def);
      } catch (err) {
        log.error(`monitors/${name} could not be loaded; skipped: ${(err as Error).message}`);
      }
    }),
  );
  // Type ids are lowercase ASCII, so code-unit order is the alphabetical order; localeCompare would load ICU's
  // collation data (several MB of resident memory, #22) for nothing.
  return new Map([...types.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * How rules write the actions the monitor types contribute (mail → `email`, irc → `chat`, mqtt → `mqtt`), by kind:
 * what `validateRules` and the rules engine are given, so a new type's action is usable in a rule with no other edit.
 * The first type to declare a kind keeps it (the engine registers its executor the same way).
 */
export function ruleActionKinds(definitions: ReadonlyMap<string, MonitorDefinition>): ReadonlyMap<string, RuleActionSpec> {
  const kinds = new Map<string, RuleActionSpec>();
  for (const def of definitions.values()) for (const [kind, action] of Object.entries(def.actions ?? {})) if (!kinds.has(kind)) kinds.set(kind, action.rule);
  return kinds;
}
