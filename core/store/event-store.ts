import { withoutWaitingForDisk, type Db } from './database.js';
import type { PanoptesEvent, StoredEvent } from '../event.js';
import type { EventPage, EventQuery } from '../protocol.js';

interface EventRow {
  seq: number;
  id: string;
  ts: string;
  received_at: string;
  source: string;
  type: string;
  title: string;
  body: string;
  url: string | null;
  fields: string;
  tags: string;
  origin: string | null;
}

const MAX_PAGE = 1_000;

/**
 * The event log. Ordering and keyset pagination follow `seq` (arrival order, the log the rules engine consumes),
 * which FTS5 can also walk backwards cheaply; the public cursor is the event id.
 */
export class EventStore {
  private readonly insert;
  private readonly byId;
  private readonly seqOf;
  private readonly afterSeq;
  private readonly maxSeqStmt;
  private readonly setTags;
  private readonly ftsCursor;
  private readonly ftsBatchEnd;
  private readonly ftsInsert;
  private readonly ftsCursorSet;
  // Transaction functions made once (better-sqlite3 builds a wrapper per db.transaction() call).
  private readonly appendAll;
  private readonly indexSome;

  constructor(private readonly db: Db) {
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO events (id, ts, received_at, source, type, title, body, url, fields, tags, origin)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.byId = db.prepare(`SELECT * FROM events WHERE id = ?`);
    this.seqOf = db.prepare(`SELECT seq FROM events WHERE id = ?`).pluck();
    this.afterSeq = db.prepare(`SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?`);
    this.maxSeqStmt = db.prepare(`SELECT COALESCE(MAX(seq), 0) FROM events`).pluck();
    this.setTags = db.prepare(`UPDATE events SET tags = ? WHERE id = ?`);
    this.ftsCursor = db.prepare(`SELECT seq FROM cursors WHERE name = 'fts'`).pluck();
    this.ftsBatchEnd = db.prepare(`SELECT MAX(seq) FROM (SELECT seq FROM events WHERE seq > ? ORDER BY seq LIMIT ?)`).pluck();
    this.ftsInsert = db.prepare(`INSERT INTO events_fts(rowid, title, body) SELECT seq, title, body FROM events WHERE seq > ? AND seq <= ? ORDER BY seq`);
    this.ftsCursorSet = db.prepare(`INSERT INTO cursors (name, seq) VALUES ('fts', ?) ON CONFLICT(name) DO UPDATE SET seq = excluded.seq`);
    this.appendAll = db.transaction((events: PanoptesEvent[]): StoredEvent[] => {
      const stored: StoredEvent[] = [];
      for (const e of events) {
        // Positional values: binding by name looked up every parameter and copied the event into a new object first.
        const r = this.insert.run(e.id, e.ts, e.receivedAt, e.source, e.type, e.title, e.body, e.url ?? null, JSON.stringify(e.fields ?? {}), JSON.stringify(e.tags ?? []), e.origin ? JSON.stringify(e.origin) : null);
        if (r.changes === 1) stored.push({ ...e, seq: Number(r.lastInsertRowid) });
      }
      return stored;
    });
    this.indexSome = db.transaction((limit: number): number => {
      const from = (this.ftsCursor.get() as number | undefined) ?? 0;
      const to = this.ftsBatchEnd.get(from, limit) as number | null;
      if (to === null) return 0;
      const n = this.ftsInsert.run(from, to).changes;
      this.ftsCursorSet.run(to);
      return n;
    });
  }

  /** Append in one transaction; events whose id is already stored are skipped (returned list excludes them). */
  append(events: PanoptesEvent[]): StoredEvent[] {
    return this.appendAll(events);
  }

  get(id: string): StoredEvent | null {
    const row = this.byId.get(id) as EventRow | undefined;
    return row ? rowToEvent(row) : null;
  }

  has(id: string): boolean {
    return this.seqOf.get(id) !== undefined;
  }

  /** The next events of the log after `seq`, oldest first: what a cursor consumer reads. */
  readAfter(seq: number, limit = 500): StoredEvent[] {
    return (this.afterSeq.all(seq, limit) as EventRow[]).map(rowToEvent);
  }

  maxSeq(): number {
    return this.maxSeqStmt.get() as number;
  }

  addTags(id: string, tags: string[]): string[] | null {
    const e = this.get(id);
    if (!e) return null;
    const merged = [...new Set([...e.tags, ...tags])];
    this.setTags.run(JSON.stringify(merged), id);
    return merged;
  }

  /**
   * Add events not yet in the full-text index (up to `limit`), in one write transaction. Called soon after each
   * append and before every search, so searches always see every stored event. The index is derived from the
   * stored events (its cursor in the same transaction), so its commit does not wait for the disk.
   */
  indexPending(limit = 5_000): number {
    return withoutWaitingForDisk(this.db, () => this.indexSome.immediate(limit));
  }

  /** Index everything pending (before a search). */
  indexAll(): void {
    while (this.indexPending() > 0) {
      /* keep going */
    }
  }

  list(query: EventQuery = {}): EventPage {
    if (query.search) this.indexAll();
    const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(query.limit ?? 100)));
    const asc = query.order === 'asc' || (query.after !== undefined && query.order !== 'desc');
    // With a search, walk the full-text index in rowid order and join the events: FTS5 yields matches newest
    // first and the walk stops at the page size, instead of collecting every match and sorting them.
    const fts = query.search ? toFtsQuery(query.search) : null;
    const { where, params } = this.buildWhere(query, fts ? 'f.rowid' : null);
    const key = fts ? 'f.rowid' : 'e.seq';
    if (query.before) {
      const s = this.seqOf.get(query.before) as number | undefined;
      where.push(`${key} < ?`);
      params.push(s ?? 0);
    }
    if (query.after) {
      const s = this.seqOf.get(query.after) as number | undefined;
      where.push(`${key} > ?`);
      params.push(s ?? Number.MAX_SAFE_INTEGER);
    }
    const from = fts ? 'events_fts f JOIN events e ON e.seq = f.rowid' : 'events e';
    const sql = `SELECT e.* FROM ${from} WHERE ${where.length ? where.join(' AND ') : '1'} ORDER BY ${key} ${asc ? 'ASC' : 'DESC'} LIMIT ?`;
    const rows = this.db.prepare(sql).all(...params, limit + 1) as EventRow[];
    const more = rows.length > limit;
    const events = rows.slice(0, limit).map(rowToEvent).map(stripSeq);
    return { events, next: more ? events[events.length - 1]!.id : null };
  }

  /**
   * How many events match, counting at most `cap` (a search for a very common word over a million events would
   * otherwise take a second just to say "531,194"); `capped` says the true number is larger.
   */
  countUpTo(query: EventQuery = {}, cap = 10_000): { count: number; capped: boolean } {
    if (query.search) this.indexAll();
    const fts = query.search ? toFtsQuery(query.search) : null;
    const { where, params } = this.buildWhere(query, fts ? 'f.rowid' : null);
    const from = fts ? 'events_fts f JOIN events e ON e.seq = f.rowid' : 'events e';
    const n = this.db.prepare(`SELECT COUNT(*) FROM (SELECT 1 FROM ${from} WHERE ${where.length ? where.join(' AND ') : '1'} LIMIT ?)`).pluck().get(...params, cap + 1) as number;
    return { count: Math.min(n, cap), capped: n > cap };
  }

  /** The exact number of matching events (tests, the CLI); the UI uses countUpTo. */
  count(query: EventQuery = {}): number {
    return this.countUpTo(query, Number.MAX_SAFE_INTEGER - 1).count;
  }

  /** Filters as SQL; with `ftsJoin`, the query joins `events_fts f` and the search is a MATCH on it. */
  private buildWhere(query: EventQuery, ftsJoin: string | null = null): { where: string[]; params: unknown[] } {
    const where: string[] = [];
    const params: unknown[] = [];
    const fts = query.search ? toFtsQuery(query.search) : null;
    if (fts && ftsJoin) {
      where.push('events_fts MATCH ?');
      params.push(fts);
    }
    for (const [col, val] of [['source', query.source], ['type', query.type]] as const) {
      if (val === undefined || val === '' || (Array.isArray(val) && !val.length)) continue;
      const list = Array.isArray(val) ? val : [val];
      const exact = list.filter((v) => !v.includes('*'));
      const globs = list.filter((v) => v.includes('*'));
      const ors: string[] = [];
      if (exact.length) {
        ors.push(`e.${col} IN (${exact.map(() => '?').join(',')})`);
        params.push(...exact);
      }
      for (const g of globs) {
        ors.push(`e.${col} GLOB ?`);
        params.push(g);
      }
      where.push(`(${ors.join(' OR ')})`);
    }
    if (query.tag) {
      where.push(`EXISTS (SELECT 1 FROM json_each(e.tags) WHERE json_each.value = ?)`);
      params.push(query.tag);
    }
    // Ranges are of received time, the order lists are in (event time can be anything a source says: a feed's
    // backfill is years old, a clock can be wrong), so a range is a contiguous part of the list.
    if (query.since) {
      where.push('e.received_at >= ?');
      params.push(new Date(query.since).toISOString());
    }
    if (query.until) {
      where.push('e.received_at < ?');
      params.push(new Date(query.until).toISOString());
    }
    return { where, params };
  }

  /**
   * Retention: delete up to `batch` events older than `beforeIso` (by receipt), for one source or for all
   * sources not in `exceptSources`. Small batches keep each write transaction short.
   */
  deleteOlderThan(beforeIso: string, opts: { source?: string; exceptSources?: string[]; batch?: number } = {}): number {
    const batch = opts.batch ?? 500;
    const params: unknown[] = [beforeIso];
    let filter = '';
    if (opts.source !== undefined) {
      filter = ' AND source = ?';
      params.push(opts.source);
    } else if (opts.exceptSources?.length) {
      filter = ` AND source NOT IN (${opts.exceptSources.map(() => '?').join(',')})`;
      params.push(...opts.exceptSources);
    }
    const r = this.db
      .prepare(`DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE received_at < ?${filter} ORDER BY seq LIMIT ${batch})`)
      .run(...params);
    return r.changes;
  }
}

function rowToEvent(r: EventRow): StoredEvent {
  const e: StoredEvent = {
    seq: r.seq,
    id: r.id,
    ts: r.ts,
    receivedAt: r.received_at,
    source: r.source,
    type: r.type,
    title: r.title,
    body: r.body,
    url: r.url,
    fields: JSON.parse(r.fields),
    tags: JSON.parse(r.tags),
  };
  if (r.origin) e.origin = JSON.parse(r.origin);
  return e;
}

export function stripSeq(e: StoredEvent): PanoptesEvent {
  const { seq: _seq, ...rest } = e;
  return rest;
}

/**
 * Turn what a user types into a safe FTS5 query: words become quoted terms (so FTS syntax characters cannot
 * break the query), "quoted phrases" stay phrases, the last word matches as a prefix, all terms must match.
 */
export function toFtsQuery(input: string): string | null {
  const parts: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  const raw: { text: string; phrase: boolean }[] = [];
  while ((m = re.exec(input))) {
    const text = (m[1] ?? m[2] ?? '').trim();
    if (text) raw.push({ text, phrase: m[1] !== undefined });
  }
  raw.forEach((p, i) => {
    const cleaned = p.text.replace(/"/g, '""');
    if (!/[\p{L}\p{N}]/u.test(cleaned)) return;
    // The word being typed matches as a prefix; a single letter would match half the index, so it stays a word.
    const prefix = !p.phrase && i === raw.length - 1 && [...p.text].length > 1 ? '*' : '';
    parts.push(`"${cleaned}"${prefix}`);
  });
  return parts.length ? parts.join(' AND ') : null;
}
