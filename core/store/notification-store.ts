import type { Db } from './database.js';
import type { NotificationFate, NotificationPayload, NotificationPriority } from '../protocol.js';

/** A notice as a row: the notification center's record of one notification (see engine/notifications/center.ts). */
export interface NoticeRow {
  seq: number;
  id: string;
  kind: NotificationPayload['kind'];
  state: NotificationPayload['state'];
  event_id: string | null;
  rule_ids: string;
  title: string;
  body: string;
  url: string | null;
  priority: NotificationPriority;
  sound: number;
  category: string;
  count: number;
  parent_id: string | null;
  channels: string;
  created_at: number;
  flush_at: number | null;
  read_at: number | null;
  snoozed_until: number | null;
  acked_at: number | null;
  ui_pending: number;
  desktop_pending: number;
}

export type NewNotice = Omit<NoticeRow, 'seq' | 'read_at' | 'snoozed_until' | 'acked_at' | 'flush_at' | 'parent_id' | 'ui_pending' | 'desktop_pending'> &
  Partial<Pick<NoticeRow, 'flush_at' | 'parent_id' | 'ui_pending' | 'desktop_pending'>>;

export interface FateRow {
  id: number;
  event_id: string | null;
  rule_id: string | null;
  notice_id: string | null;
  fate: NotificationFate['fate'];
  detail: string;
  at: number;
}

export interface DeliveryRow {
  notice_id: string;
  channel: string;
  /** `retrying`: the channel's lane will try again; `failed`: given up, a dead letter. */
  status: 'pending' | 'retrying' | 'delivered' | 'failed';
  attempts: number;
  error: string | null;
  fallback_of: string | null;
  at: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The durable side of the notification center: notices, the candidates already decided, fates and deliveries. */
export class NotificationTable {
  private readonly insertNotice;
  private readonly byId;
  private readonly insertCandidate;
  private readonly insertFate;

  constructor(private readonly db: Db) {
    this.insertNotice = db.prepare(
      `INSERT INTO notices (id, kind, state, event_id, rule_ids, title, body, url, priority, sound, category, count, parent_id, channels, created_at, flush_at, ui_pending, desktop_pending)
       VALUES (@id, @kind, @state, @event_id, @rule_ids, @title, @body, @url, @priority, @sound, @category, @count, @parent_id, @channels, @created_at, @flush_at, @ui_pending, @desktop_pending)`,
    );
    this.byId = db.prepare(`SELECT * FROM notices WHERE id = ?`);
    this.insertCandidate = db.prepare(`INSERT OR IGNORE INTO notification_candidates (key, notice_id) VALUES (?, ?)`);
    this.insertFate = db.prepare(`INSERT INTO notification_fates (event_id, rule_id, notice_id, fate, detail, at) VALUES (?, ?, ?, ?, ?, ?)`);
  }

  /** Claim a candidate key; false when it was decided before (a replayed action after a crash). */
  claimCandidate(key: string, noticeId: string): boolean {
    return this.insertCandidate.run(key, noticeId).changes === 1;
  }

  add(n: NewNotice): NoticeRow {
    this.insertNotice.run({ flush_at: null, parent_id: null, ui_pending: 0, desktop_pending: 0, ...n });
    return this.get(n.id)!;
  }

  get(id: string): NoticeRow | undefined {
    return this.byId.get(id) as NoticeRow | undefined;
  }

  update(id: string, fields: Partial<Omit<NoticeRow, 'seq' | 'id'>>): void {
    const keys = Object.keys(fields);
    if (!keys.length) return;
    this.db.prepare(`UPDATE notices SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`).run({ ...fields, id });
  }

  fate(f: Omit<FateRow, 'id'>): void {
    this.insertFate.run(f.event_id, f.rule_id, f.notice_id, f.fate, f.detail, f.at);
  }

  /** The newest single notice for an event that later rules may merge into. */
  mergeTarget(eventId: string): NoticeRow | undefined {
    return this.db.prepare(`SELECT * FROM notices WHERE event_id = ? AND kind = 'single' AND state != 'expired' ORDER BY seq DESC LIMIT 1`).get(eventId) as NoticeRow | undefined;
  }

  inState(state: NoticeRow['state']): NoticeRow[] {
    return this.db.prepare(`SELECT * FROM notices WHERE state = ? ORDER BY seq`).all(state) as NoticeRow[];
  }

  countInState(state: NoticeRow['state']): number {
    return this.db.prepare(`SELECT COUNT(*) FROM notices WHERE state = ?`).pluck().get(state) as number;
  }

  children(parentId: string): NoticeRow[] {
    return this.db.prepare(`SELECT * FROM notices WHERE parent_id = ? ORDER BY seq`).all(parentId) as NoticeRow[];
  }

  /** Notices created since `sinceMs` (storm counting after a restart). */
  createdSince(sinceMs: number): { rule_ids: string; created_at: number }[] {
    return this.db.prepare(`SELECT rule_ids, created_at FROM notices WHERE created_at >= ? AND kind = 'single' ORDER BY created_at`).all(sinceMs) as never;
  }

  list(opts: { parentId?: string; before?: number; limit: number; unreadOnly?: boolean }): NoticeRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.parentId) {
      where.push('parent_id = ?');
      args.push(opts.parentId);
    } else where.push('parent_id IS NULL');
    if (opts.before !== undefined) {
      where.push('seq < ?');
      args.push(opts.before);
    }
    if (opts.unreadOnly) where.push(`read_at IS NULL AND state = 'shown'`);
    return this.db.prepare(`SELECT * FROM notices WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`).all(...args, opts.limit) as NoticeRow[];
  }

  /** Shown, unread, not snoozed: what the unread badge counts. */
  unreadCount(): number {
    return this.db.prepare(`SELECT COUNT(*) FROM notices WHERE parent_id IS NULL AND state = 'shown' AND read_at IS NULL`).pluck().get() as number;
  }

  markRead(ids: string[] | 'all', at: number | null): void {
    if (ids === 'all') this.db.prepare(`UPDATE notices SET read_at = ? WHERE parent_id IS NULL AND read_at IS NULL`).run(at);
    else {
      const st = this.db.prepare(`UPDATE notices SET read_at = ? WHERE id = ? OR parent_id = ?`);
      for (const id of ids) st.run(at, id, id);
    }
  }

  maxSeq(): number {
    return (this.db.prepare(`SELECT COALESCE(MAX(seq), 0) FROM notices`).pluck().get() as number) ?? 0;
  }

  /** Notices routed to a shell/page channel after `cursor`, or (no cursor) those no page/shell has shown yet. */
  missed(channel: 'ui' | 'desktop', cursor: number | null, limit: number): { items: NoticeRow[]; total: number } {
    const col = channel === 'ui' ? 'ui_pending' : 'desktop_pending';
    const routed = `state = 'shown' AND parent_id IS NULL AND EXISTS (SELECT 1 FROM json_each(notices.channels) WHERE value = '${channel}')`;
    const where = cursor === null ? `${col} = 1` : `seq > ${Math.floor(cursor)} AND ${routed}`;
    const items = this.db.prepare(`SELECT * FROM notices WHERE ${where} ORDER BY seq DESC LIMIT ?`).all(limit) as NoticeRow[];
    const total = this.db.prepare(`SELECT COUNT(*) FROM notices WHERE ${where}`).pluck().get() as number;
    return { items, total };
  }

  /** Clear the "no page/shell has shown it" mark (all of them: the rest were counted as "and N more"). */
  markShown(channel: 'ui' | 'desktop', ids: string[] | 'all'): void {
    const col = channel === 'ui' ? 'ui_pending' : 'desktop_pending';
    if (ids === 'all') this.db.prepare(`UPDATE notices SET ${col} = 0 WHERE ${col} = 1`).run();
    else {
      const st = this.db.prepare(`UPDATE notices SET ${col} = 0 WHERE id = ?`);
      for (const id of ids) st.run(id);
    }
  }

  nextDue(): number | null {
    return (this.db.prepare(`SELECT MIN(t) FROM (SELECT MIN(flush_at) AS t FROM notices WHERE state = 'folding' UNION ALL SELECT MIN(snoozed_until) FROM notices WHERE snoozed_until IS NOT NULL)`).pluck().get() as number | null) ?? null;
  }

  snoozedDue(now: number): NoticeRow[] {
    return this.db.prepare(`SELECT * FROM notices WHERE snoozed_until IS NOT NULL AND snoozed_until <= ?`).all(now) as NoticeRow[];
  }

  foldsDue(now: number): NoticeRow[] {
    return this.db.prepare(`SELECT * FROM notices WHERE state = 'folding' AND flush_at <= ? ORDER BY seq`).all(now) as NoticeRow[];
  }

  fatesOfEvent(eventId: string): FateRow[] {
    return this.db
      .prepare(
        `SELECT * FROM notification_fates WHERE event_id = ?
         UNION SELECT f.* FROM notification_fates f WHERE f.event_id IS NULL AND f.notice_id IN (
           SELECT id FROM notices WHERE event_id = ? UNION SELECT parent_id FROM notices WHERE event_id = ? AND parent_id IS NOT NULL)
         ORDER BY id`,
      )
      .all(eventId, eventId, eventId) as FateRow[];
  }

  delivery(noticeId: string, channel: string): DeliveryRow | undefined {
    return this.db.prepare(`SELECT * FROM notification_deliveries WHERE notice_id = ? AND channel = ?`).get(noticeId, channel) as DeliveryRow | undefined;
  }

  setDelivery(d: DeliveryRow): void {
    this.db
      .prepare(
        `INSERT INTO notification_deliveries (notice_id, channel, status, attempts, error, fallback_of, at) VALUES (@notice_id, @channel, @status, @attempts, @error, @fallback_of, @at)
         ON CONFLICT(notice_id, channel) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, error = excluded.error, at = excluded.at`,
      )
      .run(d);
  }

  /** Sends not settled yet (queued, or between retries). */
  pendingDeliveries(): DeliveryRow[] {
    return this.db.prepare(`SELECT * FROM notification_deliveries WHERE status IN ('pending', 'retrying')`).all() as DeliveryRow[];
  }

  /**
   * Retention: up to `limit` notifications shown before `cutoffMs` go, each with everything that points to it (the
   * items inside a summary or fold, fates, deliveries, the candidates it decided), so what stays is whole: no "why"
   * points to a row that went. Held and folding ones stay however old (nobody has seen them yet); a summary's items
   * go with the summary, never before it. Fates that belong to no notification (a throttled or gated match) go by
   * age. Returns how many rows went.
   */
  pruneOlderThan(cutoffMs: number, limit = 500): number {
    const top = this.db
      .prepare(`SELECT * FROM notices WHERE state = 'shown' AND created_at < ? AND parent_id IS NULL ORDER BY created_at LIMIT ?`)
      .all(cutoffMs, limit) as NoticeRow[];
    let removed = 0;
    if (top.length) {
      const rows = [...top];
      const children = this.db.prepare(`SELECT * FROM notices WHERE parent_id = ?`);
      for (const t of top) if (t.kind !== 'single') rows.push(...(children.all(t.id) as NoticeRow[]));
      const fates = this.db.prepare(`DELETE FROM notification_fates WHERE notice_id = ?`);
      const deliveries = this.db.prepare(`DELETE FROM notification_deliveries WHERE notice_id = ?`);
      const candidate = this.db.prepare(`DELETE FROM notification_candidates WHERE key = ?`);
      // A time-based firing's candidate is keyed "rule/at:<ISO time>": those of the rule from before the cutoff.
      const timed = this.db.prepare(`DELETE FROM notification_candidates WHERE key >= ? AND key < ?`);
      const notice = this.db.prepare(`DELETE FROM notices WHERE id = ?`);
      const cutoffIso = new Date(cutoffMs).toISOString();
      for (const r of rows) {
        removed += fates.run(r.id).changes + deliveries.run(r.id).changes;
        for (const rule of JSON.parse(r.rule_ids) as string[]) {
          removed += r.event_id ? candidate.run(`${rule}/${r.event_id}`).changes : r.kind === 'single' ? timed.run(`${rule}/at:`, `${rule}/at:${cutoffIso}`).changes : 0;
        }
        removed += notice.run(r.id).changes;
      }
    }
    // Fates of matches that never became a notification: oldest first, by age (ids grow with time).
    const oldest = this.db.prepare(`SELECT at FROM notification_fates WHERE notice_id IS NULL ORDER BY id LIMIT 1`).pluck().get() as number | undefined;
    if (oldest !== undefined && oldest < cutoffMs) {
      removed += this.db
        .prepare(`DELETE FROM notification_fates WHERE id IN (SELECT id FROM notification_fates WHERE notice_id IS NULL AND at < ? ORDER BY id LIMIT ?)`)
        .run(cutoffMs, limit).changes;
    }
    return removed;
  }

  /** A candidate merged into another rule's notification points to that notification. */
  pointCandidate(key: string, noticeId: string): void {
    this.db.prepare(`UPDATE notification_candidates SET notice_id = ? WHERE key = ?`).run(noticeId, key);
  }

  /** Compatibility for callers that want "the recent notifications": top-level, newest first. */
  recent(limit = 50): NotificationPayload[] {
    return this.list({ limit }).map((r) => toPayload(r, () => []));
  }

  count(): number {
    return this.db.prepare(`SELECT COUNT(*) FROM notices WHERE kind = 'single'`).pluck().get() as number;
  }
}

export function toPayload(r: NoticeRow, names: (ids: string[]) => string[]): NotificationPayload {
  const ruleIds = JSON.parse(r.rule_ids) as string[];
  return {
    id: r.id,
    seq: r.seq,
    kind: r.kind,
    state: r.state,
    eventId: r.event_id,
    ruleId: ruleIds[0] ?? '',
    ruleIds,
    ruleNames: names(ruleIds),
    title: r.title,
    body: r.body,
    url: r.url,
    priority: r.priority,
    sound: r.sound === 1,
    category: r.category,
    count: r.count,
    parentId: r.parent_id,
    channels: JSON.parse(r.channels) as string[],
    at: new Date(r.created_at).toISOString(),
    readAt: iso(r.read_at),
    snoozedUntil: iso(r.snoozed_until),
    ackedAt: iso(r.acked_at),
  };
}
