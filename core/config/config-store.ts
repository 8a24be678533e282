import { Low } from 'lowdb';
import { TextFile } from 'lowdb/node';
import { copyFileSync, existsSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { acquireFileLock } from './file-lock.js';
import path from 'node:path';
import { findNodeAtLocation, parseTree, type ParseError } from 'jsonc-parser';
import { configSchema, defaultConfig, unknownConfigKeys, type ConfigDocument } from './schema.js';
import { restoreUnknownKeys } from './unknown-keys.js';
import type { Logger } from '../log.js';
import { makePrivate } from '../data-dir.js';
import { createHash } from 'node:crypto';

/**
 * A change was prepared from a revision of the configuration that is no longer the one in force (someone saved in
 * the app, ran the CLI or edited the file in between): refused, so it cannot silently undo their change.
 */
export class ConfigConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigConflictError';
  }
}

/** A short fingerprint of a document: the same content gives the same revision in every process. */
export function revisionOf(doc: unknown): string {
  return createHash('sha256').update(JSON.stringify(doc)).digest('hex').slice(0, 16);
}

export class ConfigError extends Error {
  constructor(readonly file: string, readonly line: number, readonly column: number, readonly problem: string) {
    super(`${file}:${line}:${column}: ${problem}`);
    this.name = 'ConfigError';
  }
}

/** What changed on disk behind this store's back (a CLI import, a hand edit), found by `watch` or before a save. */
export type ExternalChange =
  | { kind: 'reloaded'; before: ConfigDocument; after: ConfigDocument }
  | { kind: 'invalid'; error: ConfigError };

/**
 * The one hand-editable JSON document holding monitors, rules and settings. Validated on load and on every
 * change; after each good load or save a copy is kept beside it (`config.last-good.json`), and a broken file
 * is reported with its line and problem while Panoptes runs on that last good copy. The broken file is left
 * untouched until the user fixes it or changes something in the app (then it is set aside as `.broken-<time>`).
 *
 * Several processes write it (the engine, `panoptes opml import`, `rules import`, an editor), so a change is
 * read-modify-write under a lock file and starts from what is on disk now: a change made elsewhere since this
 * store last read the file is taken in first (the revision check), never overwritten by a stale copy.
 */
export class ConfigStore {
  readonly file: string;
  readonly lastGoodFile: string;
  /** Set when the file on disk could not be used at load. */
  loadError: ConfigError | null = null;
  /** True when this open created the document (a new data folder): the place to seed defaults. */
  created = false;
  private readonly db: Low<string>;
  private doc: ConfigDocument = defaultConfig();
  /** Changes run one at a time, each under the lock file. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The file's text as this store last read or wrote it: anything else on disk was written by someone else. */
  private diskText: string | null = null;
  private watcher: FSWatcher | null = null;

  private constructor(dataDir: string, private readonly log: Logger) {
    this.file = path.join(dataDir, 'config.json');
    this.lastGoodFile = path.join(dataDir, 'config.last-good.json');
    this.db = new Low<string>(new TextFile(this.file), '');
  }

  static async open(dataDir: string, log: Logger): Promise<ConfigStore> {
    const store = new ConfigStore(dataDir, log);
    await store.load();
    return store;
  }

  get current(): ConfigDocument {
    return this.doc;
  }

  /** The revision of the document in force; a change may name the revision it was prepared from (`ifRevision`). */
  get revision(): string {
    return revisionOf(this.doc);
  }

  private async load(): Promise<void> {
    if (!existsSync(this.file)) {
      this.created = true;
      this.doc = defaultConfig();
      await this.write();
      return;
    }
    try {
      const text = readFileSync(this.file, 'utf8');
      this.diskText = text;
      this.doc = parseConfigText(text, this.file);
      this.keepLastGood();
      const unknown = unknownConfigKeys(this.doc);
      if (unknown.length) this.log.warn(`config file: ${unknown.slice(0, 20).join(', ')}${unknown.length > 20 ? ` and ${unknown.length - 20} more` : ''}: not known to Panoptes; kept as written`);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.loadError = err;
      this.log.error(`config file is invalid, running on the last good copy: ${err.message}`);
      if (existsSync(this.lastGoodFile)) {
        try {
          this.doc = parseConfigText(readFileSync(this.lastGoodFile, 'utf8'), this.lastGoodFile);
          return;
        } catch (err2) {
          this.log.error(`the last good copy is unusable too: ${(err2 as Error).message}`);
        }
      }
      this.doc = defaultConfig();
    }
  }

  /**
   * Apply a change: validated before anything is written; an invalid change throws and changes nothing. The
   * change is applied to the document as it is on disk now, so an edit made by another process is kept.
   */
  update(mutate: (draft: ConfigDocument) => void, opts: { ifRevision?: string | undefined } = {}): Promise<ConfigDocument> {
    const run = this.queue.then(() => this.updateLocked(mutate, opts.ifRevision));
    this.queue = run.catch(() => {});
    return run;
  }

  /** Called with every change found on disk; `update` reports the ones it takes in before a save too. */
  onExternalChange: ((change: ExternalChange) => void) | null = null;

  private readonly changeListeners = new Set<() => void>();

  /** Called after every change of the document in force, made here or taken in from disk. Returns the unsubscribe. */
  onChanged(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.changeListeners) {
      try {
        l();
      } catch (err) {
        this.log.warn(`a config change listener failed: ${(err as Error).message}`);
      }
    }
  }

  private async updateLocked(mutate: (draft: ConfigDocument) => void, ifRevision: string | undefined): Promise<ConfigDocument> {
    const release = await acquireFileLock(this.file + '.lock');
    try {
      this.takeInDiskChanges();
      if (ifRevision !== undefined && ifRevision !== this.revision) {
        throw new ConfigConflictError(`the configuration changed since this change was prepared (revision ${ifRevision}, now ${this.revision}): someone saved in the app, ran the CLI or edited config.json; nothing was changed — start again from the current configuration`);
      }
      const draft = structuredClone(this.doc);
      mutate(draft);
      const result = configSchema.safeParse(draft);
      if (!result.success) {
        const issue = result.error.issues[0]!;
        throw new Error(`invalid configuration at ${formatPath(issue.path)}: ${issue.message}`);
      }
      restoreUnknownKeys(draft, result.data);
      if (this.loadError && existsSync(this.file)) {
        // The user's broken file is not silently overwritten: it is set aside with a name that says why.
        const aside = `${this.file}.broken-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        copyFileSync(this.file, aside);
        makePrivate(aside);
        this.log.warn(`the broken config file was kept as ${aside}`);
        this.loadError = null;
      }
      this.doc = result.data;
      await this.writeNow();
      this.changed();
      return this.doc;
    } finally {
      release();
    }
  }

  /**
   * Follow the file: an edit made outside this process is validated and taken in (reported as `reloaded`), or
   * reported as `invalid` while the current document stays in force. Returns a function that stops watching.
   */
  watch(): () => void {
    if (this.watcher) return () => this.unwatch();
    let timer: NodeJS.Timeout | null = null;
    const name = path.basename(this.file);
    // The folder, not the file: every save replaces the file (write to a temporary, rename), which ends a watch on it.
    this.watcher = watch(path.dirname(this.file), { persistent: false }, (_kind, filename) => {
      if (filename !== null && filename !== name) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        this.queue = this.queue.then(() => this.takeInDiskChanges()).catch((err) => this.log.warn(`could not read the changed config: ${(err as Error).message}`));
      }, 50);
    });
    this.watcher.on('error', (err) => this.log.warn(`stopped following config changes: ${err.message}`));
    return () => {
      if (timer) clearTimeout(timer);
      this.unwatch();
    };
  }

  private unwatch(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  /** Take in what another process wrote since this store last read or wrote the file. */
  private takeInDiskChanges(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return; // deleted: the next save writes it again from the document in force
    }
    if (text === this.diskText) return;
    this.diskText = text;
    let change: ExternalChange;
    try {
      const before = this.doc;
      this.doc = parseConfigText(text, this.file);
      this.loadError = null;
      this.keepLastGood();
      change = { kind: 'reloaded', before, after: this.doc };
      this.log.info(`took in a change to ${this.file} made outside the app`);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.loadError = err;
      change = { kind: 'invalid', error: err };
      this.log.error(`config file changed but is invalid, still running on the configuration before the change: ${err.message}`);
    }
    try {
      this.onExternalChange?.(change);
    } catch (err) {
      this.log.warn(`applying the config change failed: ${(err as Error).message}`);
    }
    if (change.kind === 'reloaded') this.changed();
  }

  private async write(): Promise<void> {
    const release = await acquireFileLock(this.file + '.lock');
    try {
      await this.writeNow();
    } finally {
      release();
    }
  }

  private async writeNow(): Promise<void> {
    const text = JSON.stringify(this.doc, null, 2) + '\n';
    this.db.data = text;
    await this.db.write(); // lowdb/steno: write to a temp file, then rename, so a crash never leaves half a file
    makePrivate(this.file); // steno creates its temp file with the default mode
    this.diskText = text;
    this.keepLastGood();
  }

  private keepLastGood(): void {
    try {
      copyFileSync(this.file, this.lastGoodFile);
      makePrivate(this.lastGoodFile);
    } catch (err) {
      this.log.warn(`could not keep a last good copy of the config: ${(err as Error).message}`);
    }
  }
}

/**
 * Deeper than any real config (rules nest conditions a handful deep): what is walked recursively later (schemas,
 * rule compilation, copies) would overflow the stack on a document nested thousands deep, so such a file is refused
 * like any other broken one and the last good copy is used.
 */
export const MAX_CONFIG_DEPTH = 100;

/** Strict JSON, then the schema; every problem is reported with the line and column it is on. */
export function parseConfigText(text: string, file: string): ConfigDocument {
  const clean = text.replace(/^\uFEFF/, '');
  const tooDeep = offsetPastDepth(clean, MAX_CONFIG_DEPTH);
  if (tooDeep >= 0) {
    const { line, column } = lineColumn(clean, tooDeep);
    throw new ConfigError(file, line, column, `nested more than ${MAX_CONFIG_DEPTH} deep`);
  }
  let data: unknown;
  try {
    data = JSON.parse(clean);
  } catch (err) {
    const offset = jsonErrorOffset(clean, err as Error);
    const { line, column } = lineColumn(clean, offset);
    throw new ConfigError(file, line, column, `not valid JSON: ${(err as Error).message.replace(/ in JSON at position \d+.*$/, '')}`);
  }
  const result = configSchema.safeParse(data);
  if (result.success) {
    // Keys written by hand inside settings or forwarding are kept (and reported at load), not dropped at the next save.
    restoreUnknownKeys(data, result.data);
    return result.data;
  }
  const issue = result.error.issues[0]!;
  const tree = parseTree(clean);
  let node = tree ? findNodeAtLocation(tree, issue.path as (string | number)[]) : undefined;
  for (let p = issue.path.slice(0, -1); !node && tree && p.length; p = p.slice(0, -1)) node = findNodeAtLocation(tree, p as (string | number)[]);
  const { line, column } = lineColumn(clean, node?.offset ?? 0);
  throw new ConfigError(file, line, column, `${formatPath(issue.path)}: ${issue.message}`);
}

/** Where the JSON text first opens a level deeper than `max` (outside strings), or -1. One pass, no recursion. */
function offsetPastDepth(text: string, max: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91 /* { [ */) {
      if (++depth > max) return i;
    } else if (c === 125 || c === 93) depth--;
  }
  return -1;
}

function jsonErrorOffset(text: string, err: Error): number {
  const m = /position (\d+)/.exec(err.message);
  if (m) return Number(m[1]);
  const errors: ParseError[] = [];
  parseTree(text, errors);
  return errors[0]?.offset ?? text.length;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return { line, column };
}

export function formatPath(p: readonly PropertyKey[]): string {
  return '$' + p.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('');
}
