/**
 * The contract between the outbox (engine/outbox-dispatcher.ts, which runs actions in lanes with retries) and
 * whoever carries an action out: the engine's own kinds (notify, webhook, command) and the kinds a monitor type
 * provides (mail → `email`, irc → `chat`, mqtt → `mqtt`).
 */
import type { z } from 'zod';

export interface ActionContext {
  ruleId: string;
  eventId: string;
  actionIndex: number;
  /** Stable over attempts and restarts: (rule, event, action index). Executors hand it to the receiver. */
  idempotencyKey: string;
  /** Aborted on shutdown and when the attempt's time is up. */
  signal: AbortSignal;
}

export interface ActionExecutor {
  /** Safe to run again after a crash left it half-done (a webhook, a mail); a notification is not. */
  retrySafe: boolean;
  maxAttempts?: number;
  /**
   * Where the action goes (a webhook's host, a mail account's SMTP server, a chat network, …). Actions to one
   * destination share a lane; lanes never wait on each other. Default: one lane for the action kind.
   */
  destination?(action: Record<string, unknown>): string;
  /** Actions of one lane under way at once (default 4). Lanes start work in the order it became due. */
  concurrency?: number;
  /** One attempt taking longer than this counts as failed, and frees its slot (default 60 s). */
  timeoutMs?: number;
  run(action: Record<string, unknown>, ctx: ActionContext): Promise<void>;
  /** Let go of connections at shutdown. */
  close?(): Promise<void>;
}

/** An error that retrying will not fix (a disabled feature, a bad address). */
export function permanentError(message: string): Error {
  return Object.assign(new Error(message), { permanent: true });
}

/** The MQTT 5 user property an `mqtt` action's message carries the idempotency key in. */
export const IDEMPOTENCY_MQTT_PROPERTY = 'idempotency-key';

/** A mail's Message-ID made from the action's idempotency key: a resent mail is recognisably the same message. */
export function messageIdFor(key: string): string {
  return `<${key}@panoptes.idempotency>`;
}

/** A monitor the user set up, with its secrets: the account an action of its type sends through. */
export interface ActionAccount {
  id: string;
  name: string;
  config: Record<string, unknown>;
  secrets: Readonly<Record<string, string>>;
}

/** What a monitor type's action gets from the engine it runs in. */
export interface ActionHost {
  /** The user's monitors of this type (enabled or not), read at each use so edits apply at once. */
  accounts(): ActionAccount[];
  /** Keep secrets an action changed for one of those accounts (a renewed OAuth grant); null removes a field. */
  saveSecrets?(accountId: string, values: Record<string, string | null>): void;
  /**
   * The MQTT broker the user chose for rules' messages (Settings → Machines: the action broker, else the forward
   * broker), with its password; null when none is set. Throws a readable error for an unusable setting.
   */
  mqttBroker(): { address: { url: string; username?: string; password?: string }; tls?: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined; rejectUnauthorized?: boolean | undefined } | undefined } | null;
}

/**
 * How a rule writes an action a monitor type provides (mail's `email`, irc's `chat`, mqtt's `mqtt`), so the rule
 * format checks and renders it like its own kinds. `params` builds the schema of the action's parameters from the
 * rules' `template` (a string that must be a valid template); `render` turns checked parameters into what the
 * executor gets, each template rendered with `template(text, field)` (`field` names it in a render error).
 */
export interface RuleActionSpec<P = Record<string, unknown>> {
  params(template: z.ZodType<string>): z.ZodType<P>;
  render(params: P, template: (text: string, field: string) => string): Record<string, unknown>;
}
