/**
 * Notifications that respect the user, as pure logic: what a native notification shows, what is held while a
 * do-not-disturb-like flag is set (delivered as one summary when it clears), and how a burst from one rule is
 * coalesced into one notification. main.ts feeds it pushes, flag changes and timer ticks and shows what comes out.
 */
import type { NotificationPayload } from '../core/protocol.js';

export interface GateSettings {
  /** Flags that hold notifications while any of them is set. */
  holdDuringFlags: string[];
  /** High-priority notifications go through even while held. */
  allowHighPriorityThrough: boolean;
  /** More than this many from one rule within the window become one (0 or less: never coalesce). */
  coalescePerMinute: number;
  windowMs?: number;
}

export interface GateInput {
  payload: NotificationPayload;
  /** What to call the rule in a coalesced notification ("5 new items from Hacker News"). */
  ruleName?: string;
  /** Plural noun for the summary ("feeds", "mail"), from the event type; see `categoryOfType`. */
  category?: string;
}

/** What to show: one notification, a coalesced burst, or the summary of what was held. */
export type Delivery =
  | { kind: 'single'; payload: NotificationPayload }
  | { kind: 'coalesced'; ruleId: string; count: number; title: string; body: string; payloads: NotificationPayload[] }
  | { kind: 'summary'; count: number; byCategory: Record<string, number>; title: string; body: string; payloads: NotificationPayload[] };

interface Burst {
  /** Times of deliveries from this rule inside the current window. */
  sent: number[];
  /** Items over the limit waiting for the window to end. */
  pending: GateInput[];
  flushAt: number | null;
}

export class NotificationGate {
  private held: GateInput[] = [];
  private bursts = new Map<string, Burst>();
  private readonly windowMs: number;

  constructor(private settings: GateSettings) {
    this.windowMs = settings.windowMs ?? 60_000;
  }

  updateSettings(settings: GateSettings): void {
    this.settings = { ...settings, windowMs: this.windowMs };
  }

  /** A new notification arrives; returns what to show now (possibly nothing). */
  offer(input: GateInput, now: number, activeFlags: ReadonlySet<string>): Delivery[] {
    if (this.isHolding(activeFlags) && !(input.payload.priority === 'high' && this.settings.allowHighPriorityThrough)) {
      this.held.push(input);
      return [];
    }
    return this.throughCoalescing(input, now);
  }

  /** Flags changed: when nothing holds any more, what was held comes out as one summary. */
  flagsChanged(activeFlags: ReadonlySet<string>): Delivery[] {
    if (this.isHolding(activeFlags) || this.held.length === 0) return [];
    const held = this.held;
    this.held = [];
    if (held.length === 1) return [{ kind: 'single', payload: held[0]!.payload }];
    return [summaryOf(held)];
  }

  /** Timers: flush the bursts whose window has ended. */
  tick(now: number): Delivery[] {
    const out: Delivery[] = [];
    for (const [ruleId, b] of this.bursts) {
      b.sent = b.sent.filter((t) => now - t < this.windowMs);
      if (b.flushAt !== null && now >= b.flushAt) {
        out.push(coalescedOf(ruleId, b.pending));
        b.pending = [];
        b.flushAt = null;
        b.sent = [];
      }
      if (!b.sent.length && !b.pending.length) this.bursts.delete(ruleId);
    }
    return out;
  }

  /** When `tick` next has something to do (to arm one timer, not poll). */
  nextDeadline(): number | null {
    let next: number | null = null;
    for (const b of this.bursts.values()) {
      if (b.flushAt !== null && (next === null || b.flushAt < next)) next = b.flushAt;
    }
    return next;
  }

  heldCount(): number {
    return this.held.length;
  }

  private isHolding(activeFlags: ReadonlySet<string>): boolean {
    return this.settings.holdDuringFlags.some((f) => activeFlags.has(f));
  }

  private throughCoalescing(input: GateInput, now: number): Delivery[] {
    const limit = this.settings.coalescePerMinute;
    if (!(limit > 0)) return [{ kind: 'single', payload: input.payload }];
    const ruleId = input.payload.ruleId;
    const b = this.bursts.get(ruleId) ?? { sent: [], pending: [], flushAt: null };
    this.bursts.set(ruleId, b);
    b.sent = b.sent.filter((t) => now - t < this.windowMs);
    if (b.flushAt !== null || b.sent.length >= limit) {
      // Over the limit: collect until the minute that started with the first delivery is over.
      b.pending.push(input);
      if (b.flushAt === null) b.flushAt = (b.sent[0] ?? now) + this.windowMs;
      return [];
    }
    b.sent.push(now);
    return [{ kind: 'single', payload: input.payload }];
  }
}

function coalescedOf(ruleId: string, items: GateInput[]): Delivery {
  const payloads = items.map((i) => i.payload);
  if (payloads.length === 1) return { kind: 'single', payload: payloads[0]! };
  const name = items.find((i) => i.ruleName)?.ruleName ?? ruleId;
  const titles = payloads.slice(-3).map((p) => p.title).filter(Boolean);
  return {
    kind: 'coalesced',
    ruleId,
    count: payloads.length,
    title: `${payloads.length} new items from ${name}`,
    body: titles.join('\n'),
    payloads,
  };
}

function summaryOf(items: GateInput[]): Delivery {
  const byCategory: Record<string, number> = {};
  for (const i of items) {
    const c = i.category || 'notifications';
    byCategory[c] = (byCategory[c] ?? 0) + 1;
  }
  const parts = Object.entries(byCategory)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([c, n]) => `${n} ${c}`);
  return {
    kind: 'summary',
    count: items.length,
    byCategory,
    title: `${items.length} held: ${parts.join(', ')}`,
    body: items.slice(-3).map((i) => i.payload.title).filter(Boolean).join('\n'),
    payloads: items.map((i) => i.payload),
  };
}

const CATEGORY_BY_NAMESPACE: Record<string, string> = {
  feed: 'feeds',
  mail: 'mail',
  chat: 'chat',
  irc: 'chat',
  social: 'posts',
  weather: 'weather',
  web: 'web pages',
  page: 'web pages',
  log: 'logs',
  idle: 'presence',
  session: 'presence',
  window: 'windows',
  flag: 'flags',
};

/** The summary's noun for an event type: `feed.item` → feeds, `mail.received` → mail. */
export function categoryOfType(type: string | null | undefined): string {
  const ns = (type ?? '').split('.')[0] ?? '';
  return CATEGORY_BY_NAMESPACE[ns] ?? (ns ? ns : 'notifications');
}

/** What a native notification shows for a delivery; `silent` for low priority. */
export interface NativeNotificationSpec {
  title: string;
  body: string;
  silent: boolean;
  urgency: 'low' | 'normal' | 'critical';
  /** What a click opens: an event in the window, a URL in the browser, or just the window. */
  onClick: { kind: 'event'; eventId: string } | { kind: 'url'; url: string } | { kind: 'window' };
}

const TITLE_MAX = 120;
const BODY_MAX = 400;

export function nativeNotificationSpec(d: Delivery, opts: { clickOpensUrl?: boolean; soundEnabled?: boolean } = {}): NativeNotificationSpec {
  const soundEnabled = opts.soundEnabled ?? true;
  if (d.kind === 'single') {
    const p = d.payload;
    const url = p.url && /^https?:\/\//i.test(p.url) ? p.url : null;
    return {
      title: clip(p.title || 'Panoptes', TITLE_MAX),
      body: clip(p.body, BODY_MAX),
      silent: !soundEnabled || p.priority === 'low' || !p.sound,
      urgency: p.priority === 'high' ? 'critical' : p.priority === 'low' ? 'low' : 'normal',
      onClick: opts.clickOpensUrl && url ? { kind: 'url', url } : { kind: 'event', eventId: p.eventId },
    };
  }
  const loud = d.payloads.some((p) => p.priority !== 'low' && p.sound);
  return {
    title: clip(d.title, TITLE_MAX),
    body: clip(d.body, BODY_MAX),
    silent: !soundEnabled || !loud,
    urgency: d.payloads.some((p) => p.priority === 'high') ? 'critical' : 'normal',
    onClick: { kind: 'window' },
  };
}

function clip(s: string, max: number): string {
  const t = String(s ?? '');
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}
