import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
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
export function openDatabase(file: string): Db {
  if (file !== ':memory:') {
    mkdirSync(path.dirname(file), { recursive: true });
    if (existsSync(file)) assertLooksLikeSqlite(file);
  }
  let db: Db;
  try {
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(String(check));
  } catch (err) {
    if (err instanceof CorruptDatabaseError) throw err;
    throw new CorruptDatabaseError(file, err);
  }
  migrate(db);
  return db;
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
