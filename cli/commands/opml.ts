// `panoptes opml import FILE` adds an rss monitor per feed (skipping feeds already watched);
// `panoptes opml export [FILE]` writes the rss monitors as OPML (to stdout without FILE). No secrets are exported.
import { readFile, writeFile } from 'node:fs/promises';
import { parseFlags, writeLine, UsageError, type CliIO } from '../io.js';
import { ConfigStore } from '../../core/config/config-store.js';
import { createLogger } from '../../core/log.js';
import { parseOpml, buildOpml, slugFor } from '../../monitors/rss/opml.js';
import { rssConfigSchema } from '../../monitors/rss/index.js';

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
  const checked = interval === undefined ? null : rssConfigSchema.shape.intervalMinutes.safeParse(interval);
  if (checked && !checked.success) {
    writeLine(io.stderr, `--interval: ${checked.error.issues[0]?.message ?? 'invalid'}`);
    return 2;
  }
  let added = 0;
  let skipped = 0;
  await config.update((draft) => {
    const watched = new Set(draft.monitors.filter((m) => m.type === 'rss').map((m) => String(m.config.url)));
    const taken = new Set(draft.monitors.map((m) => m.id));
    for (const f of feeds) {
      if (watched.has(f.xmlUrl)) {
        skipped++;
        continue;
      }
      // Validate through the monitor's own schema, so a bad interval is refused here, not at start.
      const monitorConfig = rssConfigSchema.parse({ url: f.xmlUrl, ...(interval !== undefined ? { intervalMinutes: interval } : {}) });
      draft.monitors.push({ id: `rss:${slugFor(f.title, taken)}`, type: 'rss', name: f.title.slice(0, 200), enabled: true, config: monitorConfig });
      watched.add(f.xmlUrl);
      added++;
    }
  });
  writeLine(io.stdout, `imported ${added} feed${added === 1 ? '' : 's'}${skipped ? `, ${skipped} already watched` : ''}`);
  return 0;
}
