// `panoptes opml import FILE` adds an rss monitor per feed (skipping feeds already watched);
// `panoptes opml export [FILE]` writes the rss monitors as OPML (to stdout without FILE). No secrets are exported.
import { readFile, writeFile } from 'node:fs/promises';
import { parseFlags, writeLine, UsageError, type CliIO } from '../io.js';
import { ConfigStore } from '../../core/config/config-store.js';
import { createLogger } from '../../core/log.js';
import { buildOpml, loadMonitorTypes, parseOpml } from '../../engine/monitor-registry.js';
import { opmlIntervalProblem, planOpmlImport, type OpmlImport } from '../../engine/opml-import.js';
import { connectToRunningEngine, type RunningEngine } from '../running-engine.js';

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
  const engine = await connectToRunningEngine(io.dataDir);
  if (engine) {
    try {
      return await throughEngine(engine, action, file, parsed.flags.interval as number | undefined, io);
    } finally {
      engine.close();
    }
  }
  const config = await ConfigStore.open(io.dataDir, createLogger('opml', 'warn'));

  if (action === 'export') {
    const feeds = config.current.monitors
      .filter((m) => m.type === 'rss' && typeof m.config.url === 'string')
      .map((m) => ({ title: m.name, xmlUrl: String(m.config.url), htmlUrl: null, category: null }));
    await writeOpmlOut(await buildOpml(feeds), feeds.length, file, io);
    return 0;
  }

  const text = await readOpmlFile(file!, io);
  if (text === null) return 2;
  let feeds;
  try {
    feeds = await parseOpml(text);
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
  // The same planning as the protocol's monitors.importOpml: the same names, ids and configs from the same file.
  const problem = opmlIntervalProblem(rss, interval);
  if (problem) {
    writeLine(io.stderr, `--interval: ${problem}`);
    return 2;
  }
  let plan: OpmlImport = { add: [], skipped: [], refused: [] };
  await config.update((draft) => {
    plan = planOpmlImport(draft.monitors, feeds, rss, interval);
    draft.monitors.push(...plan.add);
  });
  for (const r of plan.refused) writeLine(io.stderr, `not imported (${r.message}): ${r.url}`);
  const added = plan.add.length;
  const skipped = plan.skipped.length;
  writeLine(io.stdout, `imported ${added} feed${added === 1 ? '' : 's'}${skipped ? `, ${skipped} already watched` : ''}`);
  return 0;
}

/** The same command, asked of the running engine: it plans the import the same way and tells open pages at once. */
async function throughEngine(engine: RunningEngine, action: 'import' | 'export', file: string | undefined, interval: number | undefined, io: CliIO): Promise<number> {
  if (action === 'export') {
    const { opml } = await engine.client.call('monitors.exportOpml', {});
    await writeOpmlOut(opml, (await parseOpml(opml)).length, file, io);
    return 0;
  }
  const text = await readOpmlFile(file!, io);
  if (text === null) return 2;
  let result;
  try {
    result = await engine.client.call('monitors.importOpml', { opml: text, ...(interval !== undefined ? { intervalMinutes: interval } : {}) });
  } catch (err) {
    writeLine(io.stderr, `${interval !== undefined && /intervalMinutes/.test((err as Error).message) ? '--interval' : file}: ${(err as Error).message.replace(/^intervalMinutes: /, '')}`);
    return 2;
  }
  for (const r of result.refused ?? []) writeLine(io.stderr, `not imported (${r.message}): ${r.url}`);
  const { added, skipped } = result;
  writeLine(io.stdout, `imported ${added.length} feed${added.length === 1 ? '' : 's'}${skipped.length ? `, ${skipped.length} already watched` : ''} ${engine.via}`);
  return 0;
}

/** The file to import, or null after saying why it cannot be read. */
async function readOpmlFile(file: string, io: CliIO): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    writeLine(io.stderr, `cannot read ${file}: ${(err as Error).message}`);
    return null;
  }
}

/** An export goes to FILE (saying how many feeds) or, without one, to stdout as it is. */
async function writeOpmlOut(opml: string, count: number, file: string | undefined, io: CliIO): Promise<void> {
  if (!file) {
    io.stdout.write(opml);
    return;
  }
  await writeFile(file, opml, 'utf8');
  writeLine(io.stderr, `exported ${count} feed${count === 1 ? '' : 's'} to ${file}`);
}
