// `panoptes opml import FILE` adds an rss monitor per feed (skipping feeds already watched);
// `panoptes opml export [FILE]` writes the rss monitors as OPML (to stdout without FILE). No secrets are exported.
import { readFile, writeFile } from 'node:fs/promises';
import { parseFlags, writeLine, UsageError, type CliIO } from '../io.js';
import { ConfigStore } from '../../core/config/config-store.js';
import { createLogger } from '../../core/log.js';
import { monitorIdFor } from '../../core/config/schema.js';
import { buildOpml, loadMonitorTypes, opmlMonitorName, parseOpml } from '../../engine/monitor-registry.js';

const USAGE = `usage: panoptes opml import FILE [--interval MINUTES]
       panoptes opml export [FILE]`;

export async function run(args: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseFlags(args, { interval: 'number' }, USAGE);
  } catch (err) {
    if (err instanceof UsageError) {
      if (err.message) writeLine(io.stderr, err.message);
      writeLine(io.stderr, USAGE);
      return 2;
    }
    throw err;
  }
  const [action, file, ...rest] = parsed.positional;
  if ((action !== 'import' && action !== 'export') || rest.length || (action === 'import' && !file)) {
    writeLine(io.stderr, USAGE);
    return 2;
  }
  const config = await ConfigStore.open(io.dataDir, createLogger('opml', 'warn'));

  if (action === 'export') {
    const feeds = config.current.monitors
      .filter((m) => m.type === 'rss' && typeof m.config.url === 'string')
      .map((m) => ({ title: m.name, xmlUrl: String(m.config.url), htmlUrl: null, category: null }));
    const text = buildOpml(feeds);
    if (file) await writeFile(file, text, 'utf8');
    else io.stdout.write(text);
    if (file) writeLine(io.stderr, `exported ${feeds.length} feed${feeds.length === 1 ? '' : 's'} to ${file}`);
    return 0;
  }

  let text: string;
  try {
    text = await readFile(file!, 'utf8');
  } catch (err) {
    writeLine(io.stderr, `cannot read ${file}: ${(err as Error).message}`);
    return 2;
  }
  let feeds;
  try {
    feeds = parseOpml(text);
  } catch (err) {
    writeLine(io.stderr, `${file}: ${(err as Error).message}`);
    return 2;
  }
  const interval = parsed.flags.interval as number | undefined;
  const rss = (await loadMonitorTypes(createLogger('opml', 'warn', (l) => io.stderr.write(l + '\n')))).get('rss');
  if (!rss) {
    writeLine(io.stderr, 'the rss monitor type could not be loaded');
    return 1;
  }
  // Validate through the monitor's own schema, so a bad interval is refused here, not at start.
  const configFor = (url: string) => rss.configSchema.safeParse({ url, ...(interval !== undefined ? { intervalMinutes: interval } : {}) });
  const checked = interval === undefined ? null : configFor('https://example.org/feed.xml');
  if (checked && !checked.success) {
    const issue = checked.error.issues.find((i) => i.path[0] === 'intervalMinutes') ?? checked.error.issues[0];
    writeLine(io.stderr, `--interval: ${issue?.message ?? 'invalid'}`);
    return 2;
  }
  let added = 0;
  let skipped = 0;
  const refused: string[] = [];
  await config.update((draft) => {
    const watched = new Set(draft.monitors.filter((m) => m.type === 'rss').map((m) => String(m.config.url)));
    const taken = new Set(draft.monitors.map((m) => m.id));
    for (const f of feeds) {
      if (watched.has(f.xmlUrl)) {
        skipped++;
        continue;
      }
      const monitorConfig = configFor(f.xmlUrl);
      if (!monitorConfig.success) {
        refused.push(f.xmlUrl);
        continue;
      }
      // The same name and id the protocol's monitors.importOpml gives.
      const name = opmlMonitorName(f);
      const id = monitorIdFor('rss', name, taken);
      taken.add(id);
      draft.monitors.push({ id, type: 'rss', name, enabled: true, config: monitorConfig.data as Record<string, unknown> });
      watched.add(f.xmlUrl);
      added++;
    }
  });
  for (const url of refused) writeLine(io.stderr, `not imported (not a feed address): ${url}`);
  writeLine(io.stdout, `imported ${added} feed${added === 1 ? '' : 's'}${skipped ? `, ${skipped} already watched` : ''}`);
  return 0;
}
