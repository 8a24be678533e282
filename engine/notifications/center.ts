import type { Store, NoticeRow } from '../../core/store/index.js';
import { toPayload } from '../../core/store/index.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type {
  FlagState,
  NotificationChannelInfo,
  NotificationFate,
  NotificationPayload,
  NotificationPriority,
  NotificationSettings,
  NotificationStatus,
} from '../../core/protocol.js';
import { newId } from '../../core/ids.js';
import { BUILT_IN_CHANNELS, isBuiltIn, type ChannelOutcome, type OutboundChannels } from './outbound-channels.js';
import { categoryOfType } from './category.js';
import { activeWindow, describeWindow, nextChange } from './quiet-hours.js';

/** A rule's `notify` action for one event (or one time-based firing), as the outbox hands it over. */
export interface Candidate {
  /** (rule, event): the same candidate offered again after a crash is recognised and dropped. */
  key: string;
  ruleId: string;
  /** Null for firings that have no event (an absence deadline, a digest). */
  eventId: string | null;
  title: string;
  body: string;
  url: string | null;
  priority: NotificationPriority;
  sound: boolean;
  /** The rule wants its own notification even when other rules notify for the same event. */
  own?: boolean;
}

/** A rule's own routing, from its `notify` action (rules/schema.ts). */
export interface RuleRouting {
  channels?: string[];
  throughHolds?: boolean;
}

export interface CenterDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  settings(): NotificationSettings;
  flags(): FlagState[];
  ruleName(ruleId: string): string;
  /** What a rule's `notify` says about routing (its own channels, holds); undefined: as the settings say. */
  ruleRouting?(ruleId: string): RuleRouting | undefined;
  /**
   * `ts`: when the event happened (ms), as its source says; an old one is part of a backfill. `backfill`: its monitor
   * marked it as one (core/event.ts BACKFILL_TAG).
   */
  eventInfo(eventId: string): { type: string; source: string; ts?: number; backfill?: boolean } | null;
  /** The UI address that shows an event best, as its type declares (a web change: its diff), or null. */
  eventLink?(eventId: string): string | null;
  channels: OutboundChannels;
  /** A notification went out (or came back from a snooze): push it to pages and the desktop shell. */
  push(n: NotificationPayload): void;
  pushStatus(s: NotificationStatus): void;
}

const RANK: Record<NotificationPriority, number> = { low: 0, normal: 1, high: 2, urgent: 3 };
/** The built-in rules (engine/default-rules.ts) are named so; at equal priority a person's own rule speaks instead. */
const isBuiltInRule = (id: string) => id.startsWith('default-');
const MERGE_WINDOW_MS = 10 * 60_000;

/**
 * The notification center: every rule's `notify` becomes a candidate, and the center decides what the person sees
 * and records why. One notification per event (rules merged, highest priority wins), holds while a hold flag is
 * set or during quiet hours (released as ONE summary), storms folded into one, routing to channels with a
 * fallback. Every decision is made and recorded in one SQLite transaction, so a crash at any point neither loses a
 * held item nor releases a hold twice; pushes and channel sends follow the commit.
 */
export class NotificationCenter {
  private readonly perRule = new Map<string, number[]>();
  private overall: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private statusQueued = false;
  private closed = false;

  constructor(private readonly d: CenterDeps) {}

  /** After a (re)start: release a hold that ended while down, flush due folds, settle deliveries a crash interrupted. */
  start(): void {
    const s = this.d.settings();
    const since = this.d.clock.now() - s.storm.windowSeconds * 1000;
    for (const r of this.d.store.notifications.createdSince(since)) this.countStorm(JSON.parse(r.rule_ids)[0] ?? '', r.created_at, s);
    this.reconcileDeliveries();
    this.reconsider();
  }

  /**
   * A send's outcome is recorded by the lane first and reported here after; a crash in between leaves the delivery
   * "pending" while the outbox knows better. Rows from before sends went through the lanes have no outbox row: they
   * are queued now.
   */
  private reconcileDeliveries(): void {
    const st = this.d.store;
    let queued = false;
    for (const p of st.notifications.pendingDeliveries()) {
      const q = this.d.channels.queued(p.notice_id, p.channel);
      if (q === 'pending') continue;
      if (q === 'done') this.channelOutcome(p.notice_id, p.channel, { kind: 'done', attempts: p.attempts + 1 });
      else if (q === 'failed') this.channelOutcome(p.notice_id, p.channel, { kind: 'failed', attempts: p.attempts + 1, error: p.error ?? 'gave up (see the dead letter)' });
      else {
        const n = st.notifications.get(p.notice_id);
        if (n) st.tx(() => (queued = this.d.channels.enqueue(p.channel, this.message(n)) || queued));
      }
    }
    if (queued) this.d.channels.wake();
  }

  close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    return Promise.resolve();
  }

  // ------------------------------------------------------------------ deciding

  /** Decide one candidate. Returns the notification it became part of (null for a repeat of a decided one). */
  offer(c: Candidate): NotificationPayload | null {
    const st = this.d.store;
    const now = this.d.clock.now();
    const s = this.d.settings();
    const ruleName = this.d.ruleName(c.ruleId);
    const info = c.eventId ? this.d.eventInfo(c.eventId) : null;
    const toShow: NoticeRow[] = [];
    const toUpdate: NoticeRow[] = [];
    let queued = false;
    const result = st.tx((): NoticeRow | null => {
      const id = newId(now);
      if (!st.notifications.claimCandidate(c.key, id)) return null;
      const fate = (fate: NotificationFate['fate'], detail: string, noticeId: string) =>
        st.notifications.fate({ event_id: c.eventId, rule_id: c.ruleId, notice_id: noticeId, fate, detail, at: now });

      // One per event: a later rule joins the notification an earlier rule made for the same event.
      const target = !c.own && c.eventId ? st.notifications.mergeTarget(c.eventId) : undefined;
      if (target && now - target.created_at < MERGE_WINDOW_MS) {
        const ruleIds = JSON.parse(target.rule_ids) as string[];
        if (!ruleIds.includes(c.ruleId)) ruleIds.push(c.ruleId);
        const builtInSpoke = (JSON.parse(target.rule_ids) as string[]).every(isBuiltInRule) && !isBuiltInRule(c.ruleId);
        const higher = RANK[c.priority] > RANK[target.priority] || (RANK[c.priority] === RANK[target.priority] && builtInSpoke);
        const fields: Partial<NoticeRow> = { rule_ids: JSON.stringify(ruleIds) };
        if (higher) Object.assign(fields, { priority: c.priority, title: c.title, body: c.body, url: c.url ?? target.url, sound: c.sound ? 1 : 0 });
        let newChannels: string[] = [];
        if (target.state === 'shown') {
          const before = JSON.parse(target.channels) as string[];
          const after = this.route(ruleIds, higher ? c.priority : target.priority, s);
          newChannels = after.filter((ch) => !before.includes(ch) && !isBuiltIn(ch));
          fields.channels = JSON.stringify([...before, ...newChannels]);
        }
        st.notifications.update(target.id, fields);
        st.notifications.pointCandidate(c.key, target.id);
        fate('merged', `"${ruleName}" also matched; it joined the notification of ${this.names(JSON.parse(target.rule_ids) as string[])} (one notification per event${higher ? `, which now says what "${ruleName}" says at ${c.priority} priority` : ''})`, target.id);
        const row = st.notifications.get(target.id)!;
        for (const ch of newChannels) queued = this.queueSend(row, ch, null) || queued;
        // It went out already with the other rule's words: pages replace it in place (same id).
        if (higher && target.state === 'shown') toUpdate.push(row);
        return row;
      }

      const base = {
        id,
        kind: 'single' as const,
        event_id: c.eventId,
        rule_ids: JSON.stringify([c.ruleId]),
        title: c.title,
        body: c.body,
        url: c.url,
        priority: c.priority,
        sound: c.sound ? 1 : 0,
        category: categoryOfType(info?.type),
        count: 1,
        created_at: now,
      };

      const holding = this.holdReasons(now, s);
      const own = this.d.ruleRouting?.(c.ruleId);
      const passes = own?.throughHolds ?? (RANK[c.priority] >= RANK.high && s.allowHighPriorityThrough);
      if (holding.length && !passes) {
        const row = st.notifications.add({ ...base, state: 'held', channels: '[]' });
        const kept = own?.throughHolds === false && RANK[c.priority] >= RANK.high ? ` (${c.priority} priority, but the rule holds even urgent ones)` : '';
        fate('held', `"${ruleName}" asked to notify; held because ${holding.join(' and ')}${kept}`, id);
        return row;
      }

      // A backfill: an event its monitor marked as old news, or one older than the setting (default an hour) when it
      // asks to notify (a first check that emits what a source holds, a mailbox or feed caught up after the machine
      // was off, a backlog processed late). Folded from the first item, never shown one by one; one old item alone
      // comes out as itself when the fold's window ends.
      const marked = info?.backfill === true;
      const backfill = marked || (info?.ts !== undefined && now - info.ts > s.backfillAfterMinutes * 60_000);
      if (backfill || this.isStorm(c.ruleId, now, s)) {
        let fold = st.notifications.inState('folding')[0];
        if (!fold) {
          fold = st.notifications.add({
            ...base,
            id: newId(now),
            kind: 'fold',
            state: 'folding',
            event_id: null,
            title: 'New items',
            body: '',
            url: null,
            count: 0,
            channels: '[]',
            flush_at: now + s.storm.windowSeconds * 1000,
          });
        }
        const row = st.notifications.add({ ...base, state: 'folded', channels: '[]', parent_id: fold.id });
        const rules = new Set([...(JSON.parse(fold.rule_ids) as string[]), c.ruleId]);
        st.notifications.update(fold.id, {
          count: fold.count + 1,
          rule_ids: JSON.stringify([...rules]),
          priority: RANK[c.priority] > RANK[fold.priority] ? c.priority : fold.priority,
        });
        if (marked) {
          fate('folded', `"${ruleName}" asked to notify about an item its monitor marked as old news (what the source already held at a first check, or a catch-up): part of a backfill, so it was folded into one notification that goes out when the fold's window ends`, fold.id);
        } else if (backfill) {
          const age = Math.round((now - info!.ts!) / 60_000);
          fate('folded', `"${ruleName}" asked to notify about an old item (${age >= 120 ? `${Math.round(age / 60)} h` : `${age} min`} old when it came in, more than the ${s.backfillAfterMinutes} min after which an item counts as old): part of a backfill (a first check or a catch-up), so it was folded into one notification that goes out when the fold's window ends`, fold.id);
        } else fate('folded', `"${ruleName}" asked to notify during a storm (more than ${s.storm.perRule} from one rule or ${s.storm.overall} in all within ${s.storm.windowSeconds} s); folded into one notification that goes out when the storm's window ends`, fold.id);
        return row;
      }

      const channels = this.route([c.ruleId], c.priority, s);
      const row = st.notifications.add({ ...base, state: 'shown', channels: JSON.stringify(channels), ui_pending: channels.includes('ui') ? 1 : 0, desktop_pending: channels.includes('desktop') ? 1 : 0 });
      const through = !holding.length ? '' : own?.throughHolds ? ` (goes through while ${holding.join(' and ')}: the rule says so)` : ` (${c.priority} priority goes through while ${holding.join(' and ')})`;
      fate('shown', `"${ruleName}" notified${through}; sent to ${this.routeText([c.ruleId], channels)}`, id);
      queued = this.queueChannels(row) || queued;
      toShow.push(row);
      return row;
    });
    for (const row of toShow) this.deliver(row);
    if (queued) this.d.channels.wake();
    for (const row of toUpdate) this.d.push({ ...this.payload(row), update: true });
    if (result) {
      this.queueStatus();
      this.arm();
    }
    return result ? this.payload(result) : null;
  }

  /** Holds may have ended (flags, settings, the clock), folds come due, snoozes wake: act on all of it. */
  reconsider(): void {
    if (this.closed) return;
    const now = this.d.clock.now();
    const s = this.d.settings();
    const out: NoticeRow[] = [];
    const st = this.d.store;
    let queued = false;
    st.tx(() => {
      const fresh: NoticeRow[] = [];
      if (!this.holdReasons(now, s).length && st.notifications.countInState('held') > 0) fresh.push(this.release(now, s));
      for (const fold of st.notifications.foldsDue(now)) fresh.push(this.flushFold(fold, now, s));
      for (const row of fresh) queued = this.queueChannels(row) || queued;
      out.push(...fresh);
      for (const n of st.notifications.snoozedDue(now)) {
        st.notifications.update(n.id, { snoozed_until: null, read_at: null, ui_pending: 1, desktop_pending: 1 });
        st.notifications.fate({ event_id: null, rule_id: null, notice_id: n.id, fate: 'snoozed', detail: 'came back after its snooze', at: now });
        out.push(st.notifications.get(n.id)!);
      }
    });
    for (const row of out) this.deliver(row);
    if (queued) this.d.channels.wake();
    this.queueStatus();
    this.arm();
  }

  /** The hold ended: everything held becomes ONE summary (one held item is shown as itself). In the caller's transaction. */
  private release(now: number, s: NotificationSettings): NoticeRow {
    const st = this.d.store;
    const held = st.notifications.inState('held');
    const expiryMs = s.heldExpiryHours * 3_600_000;
    if (held.length === 1 && now - held[0]!.created_at < expiryMs) {
      const h = held[0]!;
      const channels = this.route(JSON.parse(h.rule_ids), h.priority, s);
      st.notifications.update(h.id, { state: 'shown', channels: JSON.stringify(channels), ui_pending: channels.includes('ui') ? 1 : 0, desktop_pending: channels.includes('desktop') ? 1 : 0 });
      st.notifications.fate({ event_id: h.event_id, rule_id: JSON.parse(h.rule_ids)[0] ?? null, notice_id: h.id, fate: 'shown', detail: `shown when the hold ended; sent to ${this.routeText(JSON.parse(h.rule_ids) as string[], channels)}`, at: now });
      return st.notifications.get(h.id)!;
    }
    const id = newId(now);
    const byCategory = new Map<string, number>();
    let expired = 0;
    let top: NotificationPriority = 'low';
    const ruleIds = new Set<string>();
    for (const h of held) {
      byCategory.set(h.category, (byCategory.get(h.category) ?? 0) + 1);
      if (now - h.created_at >= expiryMs) expired++;
      if (RANK[h.priority] > RANK[top]) top = h.priority;
      for (const r of JSON.parse(h.rule_ids) as string[]) ruleIds.add(r);
    }
    const parts = [...byCategory].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([c, n]) => `${n} ${c}`);
    const fresh = held.filter((h) => now - h.created_at < expiryMs);
    const lines = fresh.slice(-3).map((h) => h.title).filter(Boolean);
    if (expired) lines.push(`${expired} older than ${s.heldExpiryHours} h`);
    const channels = this.route([...ruleIds], top, s);
    const row = st.notifications.add({
      id,
      kind: 'summary',
      state: 'shown',
      event_id: null,
      rule_ids: JSON.stringify([...ruleIds]),
      title: `${held.length} held: ${parts.join(', ')}`,
      body: lines.join('\n'),
      url: null,
      priority: top === 'urgent' ? 'high' : top,
      sound: held.some((h) => h.sound) ? 1 : 0,
      category: 'summary',
      count: held.length,
      created_at: now,
      channels: JSON.stringify(channels),
      ui_pending: channels.includes('ui') ? 1 : 0,
      desktop_pending: channels.includes('desktop') ? 1 : 0,
    });
    for (const h of held) {
      const old = now - h.created_at >= expiryMs;
      st.notifications.update(h.id, { state: old ? 'expired' : 'summarised', parent_id: id });
      st.notifications.fate({
        event_id: h.event_id,
        rule_id: JSON.parse(h.rule_ids)[0] ?? null,
        notice_id: id,
        fate: old ? 'expired' : 'summarised',
        detail: old ? `held longer than ${s.heldExpiryHours} h; only counted in the summary "${row.title}"` : `released in the summary "${row.title}" when the hold ended`,
        at: now,
      });
    }
    return row;
  }

  private flushFold(fold: NoticeRow, now: number, s: NotificationSettings): NoticeRow {
    const st = this.d.store;
    const items = st.notifications.children(fold.id);
    const sources = new Set<string>();
    const categories = new Map<string, number>();
    for (const i of items) {
      const info = i.event_id ? this.d.eventInfo(i.event_id) : null;
      sources.add(info?.source ?? JSON.parse(i.rule_ids)[0] ?? '');
      categories.set(i.category, (categories.get(i.category) ?? 0) + 1);
    }
    const ruleIds = JSON.parse(fold.rule_ids) as string[];
    let title: string;
    if (categories.size === 1) {
      const [category] = [...categories.keys()];
      title = sources.size === 1 ? `${items.length} new items from ${ruleIds.length === 1 ? this.d.ruleName(ruleIds[0]!) : [...sources][0]}` : `${items.length} new items from ${sources.size} ${category}`;
    } else {
      title = `${items.length} new items: ${[...categories].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${n} ${c}`).join(', ')}`;
    }
    // One item alone (an old item that turned out not to be part of a backfill) speaks for itself.
    const only = items.length === 1 ? items[0]! : null;
    if (only) title = only.title;
    const channels = this.route(ruleIds, fold.priority, s);
    st.notifications.update(fold.id, {
      state: 'shown',
      title,
      ...(only ? { url: only.url } : {}),
      body: only ? only.body : items.slice(-3).map((i) => i.title).join('\n'),
      count: items.length,
      flush_at: null,
      channels: JSON.stringify(channels),
      ui_pending: channels.includes('ui') ? 1 : 0,
      desktop_pending: channels.includes('desktop') ? 1 : 0,
    });
    st.notifications.fate({ event_id: null, rule_id: null, notice_id: fold.id, fate: 'shown', detail: `the fold "${title}" went out; sent to ${this.routeText(ruleIds, channels)}`, at: now });
    return st.notifications.get(fold.id)!;
  }

  // ------------------------------------------------------------------ holds, storms, routing

  /** Why notifications are held at `now` ("Do not disturb (dnd) was on", "quiet hours 22:00–07:00 (Europe/Berlin)"). */
  holdReasons(now: number, s = this.d.settings()): string[] {
    const reasons: string[] = [];
    const set = new Set(this.d.flags().filter((f) => f.value && (!f.expiresAt || Date.parse(f.expiresAt) > now)).map((f) => f.name));
    for (const f of s.holdDuringFlags) if (set.has(f)) reasons.push(`the "${f}" flag was set`);
    const w = activeWindow(s.quietHours, now);
    if (w) reasons.push(`quiet hours ${describeWindow(w)} (${s.quietHours.timeZone})`);
    return reasons;
  }

  private countStorm(ruleId: string, at: number, s: NotificationSettings): { rule: number; all: number } {
    const from = at - s.storm.windowSeconds * 1000;
    let list = this.perRule.get(ruleId);
    if (!list) this.perRule.set(ruleId, (list = []));
    while (list.length && list[0]! <= from) list.shift();
    while (this.overall.length && this.overall[0]! <= from) this.overall.shift();
    list.push(at);
    this.overall.push(at);
    if (this.perRule.size > 1000) for (const [k, v] of this.perRule) if (!v.length || v[v.length - 1]! <= from) this.perRule.delete(k);
    return { rule: list.length, all: this.overall.length };
  }

  /** Counts candidates (not what was shown), so a storm keeps folding while it lasts and stops when it calms. */
  private isStorm(ruleId: string, now: number, s: NotificationSettings): boolean {
    const c = this.countStorm(ruleId, now, s);
    return c.rule > s.storm.perRule || c.all > s.storm.overall;
  }

  /**
   * The channels a notification of these rules at this priority goes to: a rule's own channels (its `notify`), else
   * the settings' per-rule routing, else its priority's. A channel removed or switched off since is left out.
   */
  route(ruleIds: string[], priority: NotificationPriority, s = this.d.settings()): string[] {
    const out = new Set<string>();
    for (const r of ruleIds) for (const ch of this.d.ruleRouting?.(r)?.channels ?? s.routing.byRule[r] ?? s.routing.byPriority[priority] ?? []) out.add(ch);
    if (!ruleIds.length) for (const ch of s.routing.byPriority[priority] ?? []) out.add(ch);
    const known = new Set(this.channelInfos().map((c) => c.id));
    return [...out].filter((ch) => known.has(ch));
  }

  /** "Desktop, My phone (the rule's own channels)": where it went and by whose routing, for "why". */
  private routeText(ruleIds: string[], channels: string[]): string {
    const own = ruleIds.filter((r) => this.d.ruleRouting?.(r)?.channels);
    return `${this.channelNames(channels)}${own.length ? ` (${own.length === ruleIds.length ? (ruleIds.length === 1 ? "the rule's own channels" : "the rules' own channels") : `the own channels of ${this.names(own)}`})` : ''}`;
  }

  channelInfos(): NotificationChannelInfo[] {
    return [...BUILT_IN_CHANNELS.map((c) => ({ ...c, builtIn: true })), ...this.d.channels.list().map((c) => ({ ...c, builtIn: false }))];
  }

  private channelNames(ids: string[]): string {
    if (!ids.length) return 'no channel (the routing sends this priority nowhere)';
    const infos = this.channelInfos();
    return ids.map((id) => infos.find((c) => c.id === id)?.name ?? id).join(', ');
  }

  private names(ruleIds: string[]): string {
    return ruleIds.map((r) => `"${this.d.ruleName(r)}"`).join(', ');
  }

  // ------------------------------------------------------------------ delivering

  /** Push to the desktop shell and open pages (the built-in channels); external channels were queued with the decision. */
  private deliver(row: NoticeRow): void {
    const channels = JSON.parse(row.channels) as string[];
    if (channels.includes('ui') || channels.includes('desktop')) this.d.push(this.payload(row));
  }

  /** Queue `row` for each external channel it is routed to. In the deciding transaction; true when any was queued. */
  private queueChannels(row: NoticeRow): boolean {
    let queued = false;
    for (const ch of JSON.parse(row.channels) as string[]) if (!isBuiltIn(ch)) queued = this.queueSend(row, ch, null) || queued;
    return queued;
  }

  /**
   * One send of `row` to an external channel, through the action lanes (a durable outbox row: retries, the
   * idempotency key, a dead letter at the end). In the caller's transaction, so a decision and its sends are kept
   * together or not at all. Never twice for one (notification, channel).
   */
  private queueSend(row: NoticeRow, channel: string, fallbackOf: string | null): boolean {
    const st = this.d.store;
    if (st.notifications.delivery(row.id, channel)) return false;
    st.notifications.setDelivery({ notice_id: row.id, channel, status: 'pending', attempts: 0, error: null, fallback_of: fallbackOf, at: this.d.clock.now() });
    return this.d.channels.enqueue(channel, this.message(row));
  }

  private message(row: NoticeRow) {
    return { id: row.id, title: row.title, body: row.body, url: row.url, priority: row.priority, kind: row.kind, count: row.count, at: new Date(row.created_at).toISOString() };
  }

  /**
   * What a channel's lane did with a send (the engine reports every attempt): recorded as the delivery's state and
   * as a fate in plain words. A send given up for good (a dead letter) goes to the fallback channel, once per
   * notification, never for a fallback's own failure.
   */
  channelOutcome(noticeId: string, channel: string, o: ChannelOutcome): void {
    const st = this.d.store;
    const row = st.notifications.get(noticeId);
    if (!row) return;
    const prev = st.notifications.delivery(noticeId, channel);
    const fallbackOf = prev?.fallback_of ?? null;
    const name = this.channelNames([channel]);
    const now = this.d.clock.now();
    let pushRow: NoticeRow | null = null;
    let queued = false;
    st.tx(() => {
      const record = (status: 'delivered' | 'retrying' | 'failed', error: string | null, fate: NotificationFate['fate'], detail: string) => {
        st.notifications.setDelivery({ notice_id: noticeId, channel, status, attempts: o.attempts, error, fallback_of: fallbackOf, at: now });
        st.notifications.fate({ event_id: null, rule_id: null, notice_id: noticeId, fate, detail, at: now });
      };
      const fb = fallbackOf ? ` (fallback for ${this.channelNames([fallbackOf])})` : '';
      if (o.kind === 'done') {
        record('delivered', null, 'delivered', `delivered to ${name}${fb}${o.attempts > 1 ? ` at attempt ${o.attempts}` : ''}`);
        return;
      }
      if (o.kind === 'retry') {
        const wait = Math.max(0, Math.round((o.at - Date.now()) / 1000));
        record('retrying', o.error, 'retrying', `${name} did not take it (attempt ${o.attempts}: ${o.error}); trying again in ${wait} s`);
        return;
      }
      record('failed', o.error, 'failed', `failed at ${name}${fb} after ${o.attempts} attempt${o.attempts === 1 ? '' : 's'}: ${o.error}; kept as a dead letter (Retry or Discard it under Actions)`);
      this.d.log.warn(`notification ${noticeId} not delivered to ${channel}: ${o.error}`);
      const fbc = this.d.settings().routing.fallback;
      const current = st.notifications.get(noticeId)!;
      const routed = JSON.parse(current.channels) as string[];
      if (!fbc || fallbackOf || fbc === channel || routed.includes(fbc) || st.notifications.delivery(noticeId, fbc)) return;
      if (isBuiltIn(fbc)) {
        st.notifications.update(noticeId, { channels: JSON.stringify([...routed, fbc]), [fbc === 'ui' ? 'ui_pending' : 'desktop_pending']: 1 });
        st.notifications.setDelivery({ notice_id: noticeId, channel: fbc, status: 'delivered', attempts: 1, error: null, fallback_of: channel, at: now });
        st.notifications.fate({ event_id: null, rule_id: null, notice_id: noticeId, fate: 'delivered', detail: `delivered to ${this.channelNames([fbc])} (fallback for ${name})`, at: now });
        pushRow = st.notifications.get(noticeId)!;
      } else queued = this.queueSend(current, fbc, channel);
    });
    if (pushRow) this.d.push(this.payload(pushRow));
    if (queued) this.d.channels.wake();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.closed) return;
    const now = this.d.clock.now();
    const s = this.d.settings();
    const due = [this.d.store.notifications.nextDue(), nextChange(s.quietHours, now)].filter((x): x is number => x !== null);
    if (!due.length) return;
    const at = Math.min(...due);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reconsider();
    }, Math.max(0, Math.min(at - now, 2 ** 31 - 1)));
    this.timer.unref?.();
  }

  /** Settings or flags changed. */
  changed(): void {
    this.reconsider();
  }

  private queueStatus(): void {
    if (this.statusQueued || this.closed) return;
    this.statusQueued = true;
    setImmediate(() => {
      this.statusQueued = false;
      if (!this.closed) this.d.pushStatus(this.status());
    });
  }

  // ------------------------------------------------------------------ what the UI asks

  payload(row: NoticeRow): NotificationPayload {
    const p = toPayload(row, (ids) => ids.map((r) => this.d.ruleName(r)));
    // One event's notification opens what shows that event best; a summary or fold opens its items.
    p.open = row.kind === 'single' && row.event_id && this.d.eventLink ? this.d.eventLink(row.event_id) : null;
    return p;
  }

  status(): NotificationStatus {
    const now = this.d.clock.now();
    const s = this.d.settings();
    const st = this.d.store.notifications;
    const w = activeWindow(s.quietHours, now);
    const change = nextChange(s.quietHours, now);
    const dnd = this.d.flags().find((f) => f.name === 'dnd' && f.value);
    return {
      unread: st.unreadCount(),
      held: st.countInState('held'),
      holding: this.holdReasons(now, s),
      quietHours: { active: !!w, until: w && change ? new Date(change).toISOString() : null, next: !w && change ? new Date(change).toISOString() : null },
      dnd: { on: !!dnd, until: dnd?.expiresAt ?? null },
    };
  }

  list(opts: { parentId?: string; before?: number; limit?: number; unreadOnly?: boolean }): { items: NotificationPayload[]; next: number | null } {
    const limit = Math.max(1, Math.min(500, opts.limit ?? 50));
    const rows = this.d.store.notifications.list({ ...opts, limit });
    return { items: rows.map((r) => this.payload(r)), next: rows.length === limit ? rows[rows.length - 1]!.seq : null };
  }

  get(id: string): NotificationPayload | null {
    const r = this.d.store.notifications.get(id);
    return r ? this.payload(r) : null;
  }

  catchUp(channel: 'ui' | 'desktop', cursor: number | null, limit = 20): { items: NotificationPayload[]; more: number; cursor: number } {
    const st = this.d.store;
    return st.tx(() => {
      const { items, total } = st.notifications.missed(channel, cursor, Math.max(1, Math.min(200, limit)));
      if (cursor === null) st.notifications.markShown(channel, 'all');
      else st.notifications.markShown(channel, items.map((i) => i.id));
      return { items: items.map((r) => this.payload(r)), more: total - items.length, cursor: st.notifications.maxSeq() };
    });
  }

  shown(channel: 'ui' | 'desktop', ids: string[]): void {
    this.d.store.notifications.markShown(channel, ids.slice(0, 1000));
  }

  read(ids: string[] | 'all', read = true): NotificationStatus {
    const now = this.d.clock.now();
    this.d.store.notifications.markRead(ids, read ? now : null);
    const s = this.status();
    this.d.pushStatus(s);
    return s;
  }

  snooze(id: string, ms: number): NotificationPayload | null {
    const st = this.d.store.notifications;
    const n = st.get(id);
    if (!n) return null;
    const now = this.d.clock.now();
    st.update(id, { snoozed_until: now + ms, read_at: now });
    st.fate({ event_id: null, rule_id: null, notice_id: id, fate: 'snoozed', detail: `snoozed until ${new Date(now + ms).toISOString()}`, at: now });
    this.arm();
    this.queueStatus();
    return this.get(id);
  }

  ack(id: string): NotificationPayload | null {
    const st = this.d.store.notifications;
    if (!st.get(id)) return null;
    const now = this.d.clock.now();
    st.update(id, { acked_at: now, read_at: now, snoozed_until: null });
    this.queueStatus();
    return this.get(id);
  }

  /** "Why did / didn't this notify me?" from what was recorded then. */
  why(eventId: string): { fates: NotificationFate[]; summary: string } {
    const rows = this.d.store.notifications.fatesOfEvent(eventId);
    const fates = rows.map((f) => ({
      at: new Date(f.at).toISOString(),
      ruleId: f.rule_id,
      ruleName: f.rule_id ? this.d.ruleName(f.rule_id) : null,
      noticeId: f.notice_id,
      fate: f.fate,
      text: f.detail,
    }));
    let summary: string;
    if (!fates.length) summary = 'No rule asked to notify about this event (see each rule’s verdict below).';
    else {
      const last = fates.filter((f) => f.ruleId).at(-1) ?? fates.at(-1)!;
      const delivered = fates.filter((f) => f.fate === 'delivered' || f.fate === 'failed').map((f) => f.text);
      // A retry still under way says so; one that was followed by a delivery or a dead letter is in the list only.
      const pending = fates.at(-1)!.fate === 'retrying' ? [fates.at(-1)!.text] : [];
      summary = [last.text, ...delivered, ...pending].join('; ');
    }
    return { fates, summary };
  }
}
