// The engine's one way to send through a notification channel: the notification center (and the Settings page's
// "Send test notification") call `send(channelId, notification)`. It validates the channel's settings against its
// type's schema, fills in its secrets from the secret store, runs the plug-in with a bounded fetch and a deadline,
// turns every failure into a ChannelError (network trouble and timeouts retryable, a bad setting permanent and at
// its field), and keeps the channel's health — last success, last error — across restarts.
import type { ChannelDefinition, OutgoingNotification } from '../core/notification-channel.js';
import { ChannelError } from '../core/notification-channel.js';
import { ChannelConfigError, parseChannelConfig } from '../core/channel-config.js';
import { boundedFetch } from '../base/http.js';
import type { ChannelEntry } from '../core/config/schema.js';
import type { ChannelHealth } from '../core/protocol.js';
import type { SecretStore } from '../core/secrets.js';
import type { Logger } from '../core/log.js';
import type { Clock } from '../core/clock.js';

/** Secret store owner of a channel's secrets (apart from monitors', whose ids look alike). */
export const channelSecretOwner = (id: string) => `channel:${id}`;

export interface ChannelSenderOptions {
  definitions: Map<string, ChannelDefinition>;
  channels: () => readonly ChannelEntry[];
  secrets: SecretStore;
  /** Where health is kept (the store's kv table). */
  kv: { get<T>(key: string): T | undefined; set(key: string, value: unknown): void };
  log: Logger;
  clock?: Clock;
  /** A whole send (connect, TLS, answer) may take this long; then it is a retryable failure. */
  timeoutMs?: number;
  onHealth?(id: string, health: ChannelHealth): void;
}

const healthKey = (id: string) => `channel.health.${id}`;

export const blankChannelHealth = (): ChannelHealth => ({ status: 'unknown', lastSuccess: null, lastError: null, lastErrorAt: null, lastErrorField: null });

export class ChannelSender {
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: ChannelSenderOptions) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.now = () => (opts.clock ? opts.clock.now() : Date.now());
  }

  /** Send through a saved channel. Resolves once the service accepted it; rejects with a ChannelError. */
  async send(channelId: string, message: OutgoingNotification): Promise<void> {
    const entry = this.opts.channels().find((c) => c.id === channelId);
    if (!entry) throw new ChannelError(`no channel "${channelId}"`, { permanent: true });
    if (!entry.enabled) throw new ChannelError(`channel "${entry.name}" is turned off`, { permanent: true });
    await this.deliver(entry.id, entry.type, entry.config, this.opts.secrets.get(channelSecretOwner(entry.id)), message, { record: true });
  }

  /**
   * Send through settings that may not be saved (the form's "Send test notification"). With `record`, the result
   * becomes the health of channel `id`.
   */
  async deliver(id: string, type: string, config: Record<string, unknown>, secrets: Record<string, string>, message: OutgoingNotification, o: { record: boolean }): Promise<void> {
    try {
      const def = this.opts.definitions.get(type);
      if (!def) throw new ChannelError(`unknown channel type "${type}"`, { permanent: true });
      let parsed: unknown;
      try {
        parsed = parseChannelConfig(def, { ...config, ...secrets });
      } catch (err) {
        if (err instanceof ChannelConfigError) {
          const first = err.issues[0];
          throw new ChannelError(`the settings are not valid: ${err.message}`, { permanent: true, field: first ? first.path.replace(/^\$\.?/, '').split(/[.[]/)[0] || null : null });
        }
        throw err;
      }
      await this.run(def, parsed, secrets, message);
      if (o.record) this.record(id, null);
    } catch (err) {
      const e = asChannelError(err);
      if (o.record) this.record(id, e);
      this.opts.log.warn(`channel ${id}: ${e.message}`, { permanent: e.permanent, ...(e.retryAfterMs != null ? { retryAfterMs: e.retryAfterMs } : {}) });
      throw e;
    }
  }

  private async run(def: ChannelDefinition, config: unknown, secrets: Record<string, string>, message: OutgoingNotification): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new ChannelError(`${def.title} did not answer within ${Math.round(this.timeoutMs / 1000)} s`)), this.timeoutMs);
    try {
      await Promise.race([
        def.send(message, {
          config,
          secrets: Object.freeze({ ...secrets }),
          signal: controller.signal,
          log: this.opts.log.child(def.type),
          fetch: (url, options) => boundedFetch(url, { maxBytes: 1024 * 1024, ...options }, controller.signal),
        }),
        new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true })),
      ]);
    } finally {
      clearTimeout(timer);
      controller.abort(new Error('send finished'));
    }
  }

  health(id: string): ChannelHealth {
    return this.opts.kv.get<ChannelHealth>(healthKey(id)) ?? blankChannelHealth();
  }

  forget(id: string): void {
    this.opts.kv.set(healthKey(id), null);
  }

  private record(id: string, error: ChannelError | null): void {
    const at = new Date(this.now()).toISOString();
    const prev = this.health(id);
    const next: ChannelHealth = error
      ? { ...prev, status: 'failing', lastError: error.message, lastErrorAt: at, lastErrorField: error.field }
      : { ...prev, status: 'ok', lastSuccess: at };
    this.opts.kv.set(healthKey(id), next);
    this.opts.onHealth?.(id, next);
  }
}

/** Whatever a plug-in threw, as a ChannelError: network trouble and timeouts are worth retrying, bugs are not hidden. */
export function asChannelError(err: unknown): ChannelError {
  if (err instanceof ChannelError) return err;
  const e = err as { name?: string; message?: string };
  if (e?.name === 'HttpError') return new ChannelError(String(e.message));
  return new ChannelError(e?.message ? String(e.message) : String(err));
}
