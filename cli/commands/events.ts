import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseFlags, writeLine, type CliIO } from '../io.js';
import { openStore } from '../../core/store/index.js';
import type { PanoptesEvent } from '../../core/event.js';

const USAGE = `usage: panoptes events [--search Q] [--source S] [--type T] [--since ISO] [--limit N] [--json]
Lists stored events, newest received first, with the time each was received (and, when the source's own time
differs by more than a minute, that too); --since is of received time. Works while the agent or the app runs.`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const { flags, positional } = parseFlags(args, { search: 'string', source: 'string', type: 'string', since: 'string', limit: 'number', json: 'boolean' }, USAGE);
  if (positional.length) {
    writeLine(io.stderr, `panoptes events: unexpected argument "${positional[0]}"`);
    writeLine(io.stderr, USAGE);
    return 2;
  }
  if (flags.since !== undefined && Number.isNaN(Date.parse(String(flags.since)))) {
    writeLine(io.stderr, `panoptes events: --since takes an ISO date/time like 2026-11-21T08:00:00Z, got "${flags.since}"`);
    return 2;
  }
  if (!existsSync(path.join(io.dataDir, 'panoptes.db'))) {
    writeLine(io.stderr, `panoptes events: no events stored yet in ${io.dataDir}`);
    return flags.json ? 0 : 0;
  }
  const store = openStore(io.dataDir);
  try {
    const page = store.events.list({
      ...(flags.search ? { search: String(flags.search) } : {}),
      ...(flags.source ? { source: String(flags.source) } : {}),
      ...(flags.type ? { type: String(flags.type) } : {}),
      ...(flags.since ? { since: String(flags.since) } : {}),
      limit: Math.max(1, Math.min(1000, Number(flags.limit ?? 20))),
    });
    for (const e of page.events) writeLine(io.stdout, flags.json ? JSON.stringify(e) : formatEvent(e));
    return 0;
  } finally {
    store.close();
  }
}

const clock = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

function formatEvent(e: PanoptesEvent): string {
  const apart = Math.abs(Date.parse(e.receivedAt) - Date.parse(e.ts)) > 60_000;
  return `${clock(e.receivedAt)}  ${e.source}  ${e.type}  ${e.title}${e.url ? `  <${e.url}>` : ''}${apart ? `  (published ${clock(e.ts)})` : ''}`;
}
