// Folder: files created, changed and removed under a folder (optionally recursive, filtered by globs). The folder is
// compared with the last snapshot every few seconds rather than watched with inotify: no watch limits, works on
// network shares and removable disks, survives the folder vanishing and returning, and a file written in bursts is
// one event per interval (debounced by design). A changed file is reported once its size and time have settled.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { NewEvent } from '../../core/event.js';
import type { MonitorDefinition } from '../../core/monitor.js';
import { isDuration, parseDuration } from '../../core/duration.js';
import { globMatcher, globProblem } from './glob.js';

const MIN_INTERVAL_MS = 1_000;
const MAX_EVENTS_PER_SCAN = 1_000;

const globSchema = z
  .string()
  .min(1)
  .superRefine((g, ctx) => {
    const problem = globProblem(g);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const folderConfigSchema = z.object({
  path: z.string().min(1).refine((p) => path.isAbsolute(p), { message: 'give the full path, e.g. /home/me/Downloads' }).meta({ label: 'Folder', help: 'Full path of the folder to watch.' }),
  recursive: z.boolean().default(true).meta({ label: 'Include subfolders', help: 'Also watch everything below it.' }),
  include: z.array(globSchema).default([]).meta({ label: 'Only files matching', help: 'Globs, e.g. "*.pdf" or "reports/**/*.csv". Empty: every file.' }),
  exclude: z.array(globSchema).default([]).meta({ label: 'Leave out', help: 'Globs, e.g. "*.tmp", ".git/**", "*.part".' }),
  interval: z.string().default('10s').refine(isDuration, { message: 'write a duration like "5s" or "1m"' }).meta({ label: 'Look every', help: 'How often to compare the folder with what it held (at least 1s). Changes in between are one event.' }),
  maxFiles: z.number().int().min(1).max(1_000_000).default(100_000).meta({ label: 'Most files', help: 'A folder with more files is reported instead of scanned.' }),
});
export type FolderConfig = z.infer<typeof folderConfigSchema>;

/** relative path → [size, mtimeMs] */
type Snapshot = Record<string, [number, number]>;

class TooManyFiles extends Error {}

async function scan(root: string, recursive: boolean, keep: (rel: string) => boolean, skipDir: (rel: string) => boolean, max: number): Promise<Snapshot> {
  const snap: Snapshot = {};
  let count = 0;
  const walk = async (rel: string) => {
    let entries;
    try {
      entries = await readdir(path.join(root, rel), { withFileTypes: true });
    } catch (err) {
      if (rel === '') throw err;
      return; // a subfolder removed or unreadable mid-scan: its files count as gone
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (recursive && !skipDir(r)) await walk(r);
        continue;
      }
      if (!e.isFile() || !keep(r)) continue;
      if (++count > max) throw new TooManyFiles(`more than ${max} files under ${root}; narrow it with "Only files matching" or raise "Most files"`);
      try {
        const s = await stat(path.join(root, r));
        snap[r] = [s.size, Math.round(s.mtimeMs)];
      } catch {
        /* removed between listing and stat */
      }
    }
  };
  await walk('');
  return snap;
}

const definition: MonitorDefinition<FolderConfig> = {
  type: 'folder',
  badge: 'FILES',
  category: 'This machine',
  title: 'Folder',
  description: 'Tells you when files are created, changed or removed in a folder (and its subfolders), filtered by patterns like *.pdf.',
  configSchema: folderConfigSchema,
  minIntervalMs: MIN_INTERVAL_MS,
  events: ['created', 'changed', 'removed'].map((kind) => ({
    type: `file.${kind}`,
    description: `A file was ${kind}${kind === 'changed' ? ' (reported once its size and time stopped changing)' : ''}.`,
    fields: { path: 'Full path', relativePath: 'Path below the watched folder', folder: 'The watched folder', name: 'File name', size: 'Size in bytes (null when removed)', modified: 'Last modification (ISO), null when removed' },
  })),
  sources: (c) => [c.path],
  create(ctx) {
    const cfg = ctx.config;
    const intervalMs = Math.max(MIN_INTERVAL_MS, parseDuration(cfg.interval));
    const include = globMatcher(cfg.include);
    const exclude = globMatcher(cfg.exclude);
    const keep = (rel: string) => (!include || include(rel)) && !(exclude && exclude(rel));
    const skipDir = (rel: string) => !!exclude && (exclude(rel) || exclude(`${rel}/`));
    // Changes seen once, waiting for the file to hold still for one interval before they are reported.
    // `old` is what the file was before (null for a new file): what is saved for it until it settles, so a restart
    // in between finds the change again instead of losing it.
    const settling = new Map<string, { kind: 'created' | 'changed'; old: [number, number] | null }>();
    let last: Snapshot | undefined;
    const persisted = (now: Snapshot): Snapshot => {
      const out = { ...now };
      for (const [rel, { old }] of settling) {
        if (old) out[rel] = old;
        else delete out[rel];
      }
      return out;
    };

    const toEvent = (kind: 'created' | 'changed' | 'removed', rel: string, entry: [number, number] | undefined): NewEvent => {
      const full = path.join(cfg.path, rel);
      return {
        type: `file.${kind}`,
        title: `${kind[0]!.toUpperCase()}${kind.slice(1)}: ${rel}`,
        body: full,
        fields: { path: full, relativePath: rel, folder: cfg.path, name: path.basename(rel), size: entry ? entry[0] : null, modified: entry ? new Date(entry[1]).toISOString() : null },
        tags: ['file'],
      };
    };

    const check = async () => {
      let now: Snapshot;
      try {
        now = await scan(cfg.path, cfg.recursive, keep, skipDir, cfg.maxFiles);
      } catch (err) {
        if (err instanceof TooManyFiles) throw err;
        const code = (err as NodeJS.ErrnoException).code;
        // The previous snapshot is kept: when the folder comes back, only what really changed is reported.
        if (code === 'ENOENT') throw new Error(`the folder ${cfg.path} does not exist (removed, renamed, or a disk not mounted); watching for it to come back`);
        if (code === 'ENOTDIR') throw new Error(`${cfg.path} is a file, not a folder`);
        if (code === 'EACCES' || code === 'EPERM') throw new Error(`no permission to read the folder ${cfg.path}`);
        throw new Error(`cannot read the folder ${cfg.path}: ${code ?? (err as Error).message}`);
      }
      if (ctx.dryRun) {
        for (const rel of Object.keys(now).sort().slice(0, 20)) await ctx.emit(toEvent('created', rel, now[rel]));
        return;
      }
      const before = (last ??= ctx.state.get<Snapshot>('snapshot'));
      last = now;
      if (!before) {
        ctx.state.set('snapshot', now);
        ctx.health.ok(`${Object.keys(now).length} files`);
        return;
      }
      const events: NewEvent[] = [];
      const hadSettling = settling.size > 0;
      // A file reported as settling last time and unchanged since is reported now.
      for (const [rel, { kind }] of settling) {
        const a = before[rel];
        const b = now[rel];
        if (!b) continue; // gone: handled with the removals below
        if (a && a[0] === b[0] && a[1] === b[1]) {
          events.push(toEvent(kind, rel, b));
          settling.delete(rel);
        }
      }
      for (const [rel, entry] of Object.entries(now)) {
        const old = before[rel];
        if (settling.has(rel)) continue;
        if (!old) settling.set(rel, { kind: 'created', old: null });
        else if (old[0] !== entry[0] || old[1] !== entry[1]) settling.set(rel, { kind: 'changed', old });
      }
      for (const rel of Object.keys(before)) {
        if (now[rel]) continue;
        const pending = settling.get(rel);
        settling.delete(rel);
        // Created and gone again before it settled: nothing to report.
        if (pending?.kind !== 'created') events.push(toEvent('removed', rel, undefined));
      }
      const capped = events.slice(0, MAX_EVENTS_PER_SCAN);
      for (const [i, e] of capped.entries()) {
        // The snapshot goes with the last event, so a crash in between repeats at most this scan's events.
        await ctx.emit(e, i === capped.length - 1 ? { state: { snapshot: persisted(now) } } : undefined);
      }
      // Nothing new and nothing pending: the saved snapshot is still right (a large folder is not rewritten each scan).
      if (!capped.length && (hadSettling || settling.size)) ctx.state.set('snapshot', persisted(now));
      const message = `${Object.keys(now).length} files${settling.size ? `, ${settling.size} being written` : ''}`;
      if (events.length > capped.length) ctx.health.degraded(`${events.length} changes at once; reported the first ${MAX_EVENTS_PER_SCAN}`);
      else ctx.health.ok(message);
    };

    return {
      start() {
        ctx.every(intervalMs, check, { timeoutMs: 120_000 });
      },
      stop() {},
    };
  },
};

export default definition;
