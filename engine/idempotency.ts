import { createHash } from 'node:crypto';

/**
 * The idempotency key of one action of one firing: the same (rule, event, action index) always gives the same
 * key, on every attempt and after any restart, so a receiver that remembers keys can drop repeats. Hex, so it
 * fits any header, a Message-ID, an MQTT property or an environment variable as it is.
 */
export function idempotencyKey(ruleId: string, eventId: string, actionIndex: number): string {
  return createHash('sha256').update(`${ruleId}\u0000${eventId}\u0000${actionIndex}`).digest('hex').slice(0, 32);
}

/** The header webhooks carry it in (the IETF draft's name, also Stripe's and others'). */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** The environment variable a `command` action's program finds it in. */
export const IDEMPOTENCY_ENV = 'PANOPTES_IDEMPOTENCY_KEY';

export { messageIdFor, IDEMPOTENCY_MQTT_PROPERTY } from '../core/action.js';
