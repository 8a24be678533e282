import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

export class CorruptDatabaseError extends Error {
  constructor(readonly file: string, cause: unknown) {
    super(
      `The event database ${file} is damaged (${cause instanceof Error ? cause.message : String(cause)}). ` +
        `Panoptes will not overwrite it. To recover: stop Panoptes, move the file aside (with its -wal and -shm files), ` +
        `then either start fresh, or salvage it with: sqlite3 "${file}" ".recover" | sqlite3 recovered.db`,
    );
    this.name = 'CorruptDatabaseError';
  }
}

/**
 * Open (or create) the store. WAL with synchronous=FULL: an append is on disk before its commit returns, and
 * readers never block the writer. Migrations are versioned by `user_version`; a database from a newer
 * Panoptes is refused rather than misread.
 */
export interface OpenOptions {
  /** The data folder was in use before (its config exists): an empty or missing database means history was lost. */
  expectHistory?: boolean;
  /** Where to say what was found (WAL frames recovered, a log cut short, a missing database). */
  warn?: (message: string) => void;
}

export function openDatabase(file: string, opts: OpenOptions = {}): Db {
  const warn = opts.warn ?? (() => {});
  let wal: WalFile | null = null;
  if (file !== ':memory:') {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    if (existsSync(file)) {
      if (statSync(file).size === 0 && opts.expectHistory) {
        throw new LostDatabaseError(file, `${file} is empty (0 bytes), but this data folder was in use before (its config.json exists): the event history, monitor state and rule windows are gone, probably truncated by a full disk or a failed copy`);
      }
      assertLooksLikeSqlite(file);
      // Tighten a database created 0644 by an older version; SQLite gives its -wal and -shm files the same mode.
      if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    } else {
      if (opts.expectHistory) {
        warn(`${file} is missing although this data folder was in use before (its config.json exists): starting with an EMPTY event history. If it was moved or deleted by mistake, stop Panoptes now and put it back.`);
      }
      // Created here, 0600, so SQLite (and its -wal and -shm files, which copy this mode) never makes it world-readable.
      closeSync(openSync(file, 'a', 0o600));
    }
    wal = readWalHeader(`${file}-wal`);
  }
  let db: Db;
  try {
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // Savepoints inside a batch's transaction (its events, the rules' writes, finished actions) journal the pages
    // they change; past 64 KiB SQLite moved that journal to a new temporary file, created and deleted on nearly every
    // commit. It is only ever read to undo a savepoint in a live transaction (never for crash recovery), so memory
    // holds it.
    db.pragma('temp_store = MEMORY');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(String(check));
  } catch (err) {
    if (err instanceof CorruptDatabaseError) throw err;
    throw new CorruptDatabaseError(file, err);
  }
  if (wal) reportWalRecovery(db, wal, warn);
  migrate(db);
  return db;
}

/**
 * Run `fn` (which writes in a transaction) without waiting for the disk at its commit: synchronous=NORMAL for this
 * call only. In WAL mode the commit is still atomic and survives the process dying (SIGKILL, a crash); only the OS
 * losing power can drop it, and then the next durable commit has not happened either. For data derived from
 * durable rows (the rules' cursor and what processing wrote, the full-text index, the outbox's turns): a power loss
 * sends it back to be derived again. Waiting for the disk on these commits too tripled the fsyncs per event.
 */
export function withoutWaitingForDisk<T>(db: Db, fn: () => T): T {
  const sync = synchronousStatements(db);
  sync.normal.run();
  try {
    return fn();
  } finally {
    sync.full.run();
  }
}

/** The two switches, prepared once per database: `db.pragma()` prepares its statement on every call, several times per event here. */
const synchronous = new WeakMap<Db, { normal: Database.Statement; full: Database.Statement }>();
function synchronousStatements(db: Db) {
  let s = synchronous.get(db);
  if (!s) synchronous.set(db, (s = { normal: db.prepare('PRAGMA synchronous = NORMAL'), full: db.prepare('PRAGMA synchronous = FULL') }));
  return s;
}

/** A database that should hold history and does not: refused, with how to recover or start over on purpose. */
export class LostDatabaseError extends CorruptDatabaseError {
  constructor(file: string, what: string) {
    super(file, new Error(what));
    this.message =
      `${what}. Panoptes will not start on it, so nothing is overwritten. To recover: stop Panoptes and restore ${file} from a ` +
      `backup (with its -wal file if there is one). To start over with an empty history on purpose, delete ${file} and start again.`;
  }
}

interface WalFile {
  file: string;
  bytes: number;
  frameSize: number;
  /** The header's salts: frames of the current log carry them; older frames left behind by a reset do not. */
  salt: Buffer;
  /** Whole frames in the file (a frame is a 24-byte header and one page). */
  frames: number;
  /** Bytes after the last whole frame: a write cut short. */
  partial: number;
}

/** What the write-ahead log left by an unclean stop holds, before SQLite replays it (null when there is none). */
function readWalHeader(walFile: string): WalFile | null {
  if (!existsSync(walFile)) return null;
  const bytes = statSync(walFile).size;
  if (bytes < 32) return bytes === 0 ? null : { file: walFile, bytes, frameSize: 0, salt: Buffer.alloc(8), frames: 0, partial: bytes };
  const head = Buffer.alloc(32);
  const fd = openSync(walFile, 'r');
  try {
    readSync(fd, head, 0, 32, 0);
  } finally {
    closeSync(fd);
  }
  const pageSize = head.readUInt32BE(8) || 65_536;
  const frameSize = pageSize + 24;
  return { file: walFile, bytes, frameSize, salt: head.subarray(16, 24), frames: Math.floor((bytes - 32) / frameSize), partial: (bytes - 32) % frameSize };
}

/** Whether frame `i` (0-based) belongs to the log's current generation (its salts match the header's). */
function frameIsCurrent(wal: WalFile, i: number): boolean {
  const b = Buffer.alloc(8);
  const fd = openSync(wal.file, 'r');
  try {
    readSync(fd, b, 0, 8, 32 + i * wal.frameSize + 8);
  } finally {
    closeSync(fd);
  }
  return b.equals(wal.salt);
}

/**
 * SQLite replays the committed frames of the log and silently ignores the rest. Say how many it took and, when the
 * log was cut short or ends in frames it could not use, that the last writes before the stop are lost.
 */
function reportWalRecovery(db: Db, wal: WalFile, warn: (m: string) => void): void {
  const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
  const recovered = Math.max(0, row?.log ?? 0);
  // Frames after the recovered ones that still carry the current salts were written and not committed (or damaged);
  // frames with other salts are an earlier generation of the log, left in place by a reset, and mean nothing.
  const unused = recovered < wal.frames && frameIsCurrent(wal, recovered) ? wal.frames - recovered : 0;
  const name = `${path.basename(db.name)}-wal`;
  if (wal.partial) {
    warn(
      `the write-ahead log ${name} was cut short (${wal.partial} bytes of a partial frame at its end): recovered ${recovered} of ${wal.frames} whole frames; ` +
        `writes after the cut are lost. Monitors fetch again what their sources still hold; the rest of the store is intact.`,
    );
  } else if (unused > 0) {
    warn(`recovered ${recovered} WAL frame(s) from ${name}; ${unused} frame(s) after them belonged to a transaction that never committed and were discarded`);
  } else if (recovered > 0) {
    warn(`recovered ${recovered} WAL frame(s) (${wal.bytes} bytes) from ${name}, written before an unclean stop`);
  }
}

function assertLooksLikeSqlite(file: string): void {
  const head = readFileSync(file).subarray(0, 16).toString('latin1');
  if (head.length > 0 && head !== 'SQLite format 3\u0000') {
    throw new CorruptDatabaseError(file, new Error('not an SQLite database'));
  }
}

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `The database was written by a newer Panoptes (schema ${current}, this version knows ${MIGRATIONS.length}); upgrade Panoptes.`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/**
 * A second, read-only connection to an open store (a worker thread reading history beside the engine). WAL lets it
 * read while the engine writes; it never migrates or writes, and waits rather than fails while a checkpoint runs.
 */
export function openDatabaseReadOnly(file: string): Db {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}
