// `panoptes tail`: a live console of the running engine's events, for people who live in a terminal. It shows the
// last few stored events that pass the filters, then each new one as the engine stores it (pushed, not polled).
import { parseFlags, writeLine, type CliIO } from '../io.js';
import { compileGlob } from '../../rules/glob.js';
import type { PanoptesEvent } from '../../core/event.js';
import { connectToRunningEngine } from '../running-engine.js';

const USAGE = `usage: panoptes tail [--source S] [--type T] [--lines N] [--json] [--color | --no-color]
Follows the events of the Panoptes running on the data folder as they arrive (Ctrl+C stops), after the last N
stored ones (default 10; 0 for none). --source and --type take globs (rss:*, check.*) and may be repeated as a
comma-separated list. Colours when the output is a terminal (NO_COLOR turns them off, --color forces them).`;

export async function run(args: string[], io: CliIO, until?: Promise<void>): Promise<number> {
  const { flags, positional } = parseFlags(args, { source: 'string', type: 'string', lines: 'number', json: 'boolean', color: 'boolean', 'no-color': 'boolean' }, USAGE);
  if (positional.length) {
    writeLine(io.stderr, `panoptes tail: unexpected argument "${positional[0]}"`);
    writeLine(io.stderr, USAGE);
    return 2;
  }
  const lines = Number(flags.lines ?? 10);
  if (!Number.isInteger(lines) || lines < 0 || lines > 1000) {
    writeLine(io.stderr, 'panoptes tail: --lines takes a whole number from 0 to 1000');
    return 2;
  }
  const list = (v: unknown) => (v === undefined ? [] : String(v).split(',').map((s) => s.trim()).filter(Boolean));
  const sources = list(flags.source);
  const types = list(flags.type);
  const sourceOk = anyOf(sources);
  const typeOk = anyOf(types);
  const colour = !flags.json && !flags['no-color'] && (flags.color === true || (!process.env.NO_COLOR && (io.stdout as { isTTY?: boolean }).isTTY === true));

  const engine = await connectToRunningEngine(io.dataDir);
  if (!engine) {
    writeLine(io.stderr, `panoptes tail: no Panoptes is running on ${io.dataDir}; start it with \`panoptes agent\` (or \`panoptes start\`), then run tail again`);
    return 1;
  }
  const print = (e: PanoptesEvent) => writeLine(io.stdout, flags.json ? JSON.stringify(e) : formatEvent(e, colour));
  // Live events that arrive while the recent ones are being fetched wait, so nothing is shown twice or out of order.
  let backlog: PanoptesEvent[] | null = [];
  const seen = new Set<string>();
  engine.client.on('event', (e) => {
    if (!sourceOk(e.source) || !typeOk(e.type)) return;
    if (backlog) backlog.push(e);
    else print(e);
  });
  const closed = new Promise<void>((resolve) => engine.client.onClose(resolve));
  if (lines > 0) {
    const page = await engine.client.call('events.list', { limit: lines, ...(sources.length ? { source: sources } : {}), ...(types.length ? { type: types } : {}) });
    for (const e of page.events.reverse()) {
      seen.add(e.id);
      print(e);
    }
  }
  for (const e of backlog ?? []) if (!seen.has(e.id)) print(e);
  backlog = null;
  writeLine(io.stderr, `following ${sources.length || types.length ? 'matching ' : ''}events of the Panoptes running on ${io.dataDir} (pid ${engine.pid}); Ctrl+C stops`);

  const stop =
    until ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  const why = await Promise.race([stop.then(() => 'stopped' as const), closed.then(() => 'closed' as const)]);
  engine.close();
  if (why === 'closed') {
    writeLine(io.stderr, 'panoptes tail: the engine stopped');
    return 1;
  }
  return 0;
}

function anyOf(patterns: string[]): (value: string) => boolean {
  if (!patterns.length) return () => true;
  const tests = patterns.map(compileGlob);
  return (v) => tests.some((t) => t(v));
}

const SGR = { dim: '2', bold: '1', red: '31', green: '32', yellow: '33', blue: '34', magenta: '35', cyan: '36' } as const;
const paint = (on: boolean, code: string, text: string) => (on ? `\x1b[${code}m${text}\x1b[0m` : text);
/** One colour per kind of event (the part before the dot), so a glance tells mail from feeds from checks. */
const KIND_COLOURS = [SGR.green, SGR.yellow, SGR.blue, SGR.magenta, SGR.cyan];
function kindColour(type: string): string {
  if (/\.(down|failed|missed|invalid|error)$/.test(type)) return SGR.red;
  const kind = type.split('.')[0] ?? type;
  let h = 0;
  for (const ch of kind) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return KIND_COLOURS[h % KIND_COLOURS.length]!;
}

/** Local wall-clock time of receipt (a console follows now), the source, the type, the title and its link. */
export function formatEvent(e: PanoptesEvent, colour: boolean): string {
  const d = new Date(e.receivedAt);
  const time = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  const title = e.title.replace(/\s+/g, ' ').trim();
  return [
    paint(colour, SGR.dim, time),
    paint(colour, SGR.cyan, e.source),
    paint(colour, kindColour(e.type), e.type),
    paint(colour, SGR.bold, title || '(no title)'),
    ...(e.url ? [paint(colour, SGR.dim, `<${e.url}>`)] : []),
  ].join('  ');
}
