import type { z } from 'zod';
import type { FetchOptions, FetchResult } from './monitor.js';
import type { Logger } from './log.js';

/**
 * The contract between the notification center (engine) and the channels that carry its notifications off the
 * machine (`channels/<type>/`: ntfy, Gotify, Pushover, Telegram, Matrix, Discord, Slack, XMPP, email, webhook).
 * A channel folder describes itself like a monitor folder does: the Settings form is built from `configSchema`
 * (labels and help in `.meta({ label, help })`, secrets marked `secret: true` and kept in the secret store).
 *
 * The center decides *what* to send (one per event, holds, summaries, folds); a channel only knows *how*.
 */
export interface ChannelDefinition<C = any> {
  type: string;
  title: string;
  description: string;
  configSchema: z.ZodType<C>;
  /**
   * Apprise-style shorthand accepted when adding a channel (`ntfy://host/topic`, `tgram://token/chat`): the URL
   * schemes this type answers to, and how such a URL becomes its config (secrets included; they are split off
   * by the schema's marks). Throw a `ChannelError` with `field: 'url'` for a URL that cannot be used.
   * `raw` is the URL as typed: Telegram's `tgram://123456:ABC-token/chat` is no WHATWG URL (the token's colon
   * reads as a port), so that type parses the text itself; `url` is then `scheme://` with the rest left out.
   */
  urlSchemes?: string[];
  fromUrl?(url: URL, raw: string): Record<string, unknown>;
  /** Deliver one notification. Resolve once the service accepted it; throw a `ChannelError` otherwise. */
  send(message: OutgoingNotification, ctx: ChannelContext<C>): Promise<void>;
}

export type NotificationPriority = 'low' | 'normal' | 'high' | 'urgent';

export interface OutgoingNotification {
  /** The center's notification id. */
  id: string;
  /**
   * Stable across retries and restarts for this (notification, channel): services with a dedupe field get it
   * (ntfy's `X-Sequence-ID`-like ids, Matrix's transaction id, mail's Message-ID, a webhook's Idempotency-Key).
   */
  idempotencyKey: string;
  title: string;
  body: string;
  url: string | null;
  priority: NotificationPriority;
  /** `single`: one event; `summary`: what a hold kept back; `fold`: a storm folded into one. */
  kind: 'single' | 'summary' | 'fold';
  /** How many events this notification stands for (1 for `single`). */
  count: number;
  at: string;
}

export interface ChannelContext<C = any> {
  readonly config: C;
  readonly secrets: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** HTTP with a timeout and a size cap (the same client monitors use). */
  fetch(url: string, options?: FetchOptions): Promise<FetchResult>;
}

/**
 * A failed send, with what the center needs to decide: `permanent` (a 401, a bad chat id: retrying will not help,
 * fall back to the next channel now), `retryAfterMs` (a 429's Retry-After), and the config `field` to blame in
 * the Settings form.
 */
export class ChannelError extends Error {
  readonly permanent: boolean;
  readonly retryAfterMs: number | null;
  readonly field: string | null;
  constructor(message: string, opts: { permanent?: boolean; retryAfterMs?: number | null; field?: string | null } = {}) {
    super(message);
    this.name = 'ChannelError';
    this.permanent = opts.permanent ?? false;
    this.retryAfterMs = opts.retryAfterMs ?? null;
    this.field = opts.field ?? null;
  }
}
