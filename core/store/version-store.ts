/**
 * Every distinct version of what a monitor watches (a web page's text, its screenshot), so the UI can show any two
 * side by side. Contents are compressed and stored once by hash (a page that flips back and forth costs its two
 * versions, not one per flip); each monitor keeps a bounded history, by count and by age, and always its newest.
 */
import { createHash } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants as zlib } from 'node:zlib';
import type { Db } from './database.js';
import type { MonitorVersions, VersionLimits } from '../monitor.js';

export interface VersionRow {
  id: number;
  monitorId: string;
  /** Epoch ms when this version was first seen. */
  at: number;
  hash: string;
  /** Length of the text in characters. */
  size: number;
  hasScreenshot: boolean;
}

export const DEFAULT_VERSION_LIMITS: VersionLimits = { maxCount: 100, maxAgeMs: 365 * 86_400_000 };

export class VersionStore {
  private readonly latestStmt;
  private readonly insertStmt;
  private readonly blobStmt;
  private readonly getBlobStmt;
  private readonly listStmt;
  private readonly getStmt;

  constructor(private readonly db: Db) {
    this.latestStmt = db.prepare(`SELECT id, hash FROM versions WHERE monitor_id = ? ORDER BY id DESC LIMIT 1`);
    this.insertStmt = db.prepare(`INSERT INTO versions (monitor_id, at, hash, size, screenshot_hash) VALUES (?, ?, ?, ?, ?)`);
    this.blobStmt = db.prepare(`INSERT INTO version_blobs (hash, data) VALUES (?, ?) ON CONFLICT(hash) DO NOTHING`);
    this.getBlobStmt = db.prepare(`SELECT data FROM version_blobs WHERE hash = ?`).pluck();
    this.listStmt = db.prepare(
      `SELECT id, monitor_id AS monitorId, at, hash, size, screenshot_hash IS NOT NULL AS hasScreenshot FROM versions
       WHERE monitor_id = ? AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?`,
    );
    this.getStmt = db.prepare(`SELECT id, monitor_id AS monitorId, at, hash, size, screenshot_hash AS screenshotHash FROM versions WHERE id = ?`);
  }

  /**
   * Keep `text` as the monitor's newest version unless it already is; returns the version's id and whether it is new.
   * Older versions past the limits go in the same transaction.
   */
  add(monitorId: string, text: string, options: { screenshot?: Buffer | null; at?: number; limits?: VersionLimits } = {}): { id: number; created: boolean } {
    const hash = sha256(text);
    return this.db.transaction(() => {
      const latest = this.latestStmt.get(monitorId) as { id: number; hash: string } | undefined;
      if (latest?.hash === hash) return { id: latest.id, created: false };
      this.blobStmt.run(hash, compress(Buffer.from(text, 'utf8')));
      let shotHash: string | null = null;
      if (options.screenshot?.length) {
        shotHash = sha256(options.screenshot);
        // PNGs are compressed already; stored as they are.
        this.blobStmt.run(shotHash, options.screenshot);
      }
      const id = Number(this.insertStmt.run(monitorId, options.at ?? Date.now(), hash, text.length, shotHash).lastInsertRowid);
      this.prune(monitorId, options.limits ?? DEFAULT_VERSION_LIMITS, options.at ?? Date.now());
      return { id, created: true };
    })();
  }

  /** Newest first, a page of `limit` before version `before`. */
  list(monitorId: string, limit = 100, before?: number): VersionRow[] {
    const rows = this.listStmt.all(monitorId, before ?? null, before ?? null, Math.min(Math.max(limit, 1), 1000)) as (Omit<VersionRow, 'hasScreenshot'> & { hasScreenshot: number })[];
    return rows.map((r) => ({ ...r, hasScreenshot: Boolean(r.hasScreenshot) }));
  }

  get(id: number): (VersionRow & { text: string }) | null {
    const row = this.getStmt.get(id) as (Omit<VersionRow, 'hasScreenshot'> & { screenshotHash: string | null }) | undefined;
    if (!row) return null;
    const data = this.getBlobStmt.get(row.hash) as Buffer | undefined;
    const { screenshotHash, ...rest } = row;
    return { ...rest, hasScreenshot: screenshotHash !== null, text: data ? decompress(data).toString('utf8') : '' };
  }

  screenshot(id: number): Buffer | null {
    const row = this.getStmt.get(id) as { screenshotHash: string | null } | undefined;
    if (!row?.screenshotHash) return null;
    return (this.getBlobStmt.get(row.screenshotHash) as Buffer | undefined) ?? null;
  }

  /** The monitor is gone: its history goes too. */
  clear(monitorId: string): void {
    this.db.transaction(() => {
      this.db.prepare(`DELETE FROM versions WHERE monitor_id = ?`).run(monitorId);
      this.dropOrphans();
    })();
  }

  /** What a monitor instance sees (`ctx.versions`): its own history, within its limits. */
  forMonitor(monitorId: string, limits: () => VersionLimits = () => DEFAULT_VERSION_LIMITS): MonitorVersions {
    return {
      add: (text, options) => this.add(monitorId, text, { screenshot: options?.screenshot ?? null, limits: { ...limits(), ...options?.limits } }),
    };
  }

  private prune(monitorId: string, limits: VersionLimits, now: number): void {
    // The newest version always stays: it is what the next check compares with.
    const r1 = this.db
      .prepare(`DELETE FROM versions WHERE monitor_id = ? AND id NOT IN (SELECT id FROM versions WHERE monitor_id = ? ORDER BY id DESC LIMIT ?)`)
      .run(monitorId, monitorId, Math.max(1, limits.maxCount));
    const r2 = this.db
      .prepare(`DELETE FROM versions WHERE monitor_id = ? AND at < ? AND id <> (SELECT MAX(id) FROM versions WHERE monitor_id = ?)`)
      .run(monitorId, now - limits.maxAgeMs, monitorId);
    if (r1.changes || r2.changes) this.dropOrphans();
  }

  private dropOrphans(): void {
    this.db
      .prepare(
        `DELETE FROM version_blobs WHERE hash NOT IN (SELECT hash FROM versions) AND hash NOT IN (SELECT screenshot_hash FROM versions WHERE screenshot_hash IS NOT NULL)`,
      )
      .run();
  }
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function compress(data: Buffer): Buffer {
  return brotliCompressSync(data, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_SIZE_HINT]: data.length } });
}

function decompress(data: Buffer): Buffer {
  return brotliDecompressSync(data);
}
