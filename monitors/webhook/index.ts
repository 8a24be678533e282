// Webhook in: other services POST to `/hooks/<id>` on the agent's server; a JSON, form or text body becomes a
// `webhook.received` event. The monitor only registers its hook while it runs; the server does the HTTP.
import { z } from 'zod';
import type { MonitorDefinition } from '../../core/monitor.js';
import { MAX_BODY_BYTES, SECRET_HEADER } from './handler.js';
import { webhookRegistry } from './registry.js';
import { webhookRoute } from './route.js';

export { handleWebhook, type Hook, type HookLookup, type WebhookRequestLike, type WebhookResult } from './handler.js';
export { webhookRegistry, WebhookRegistry, type RegisteredHook } from './registry.js';
export { webhookRoute } from './route.js';

/** How many senders' idempotency keys a hook remembers to drop repeats (kept as one state value, written with each event). */
const REMEMBERED_KEYS = 1_000;
const KEYS_STATE = 'idempotencyKeys';
/** 1000 → "1,000" without Intl: the first use of ICU maps ~7 MB of its data into an agent that may never need it (#22). */
const withCommas = (n: number) => String(n).replace(/\B(?=(\d{3})+$)/g, ',');

export const webhookConfigSchema = z.object({
  hookId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, "-" and "_" only')
    .meta({ label: 'Hook id', help: 'The last part of the address: POST https://<agent>/hooks/<id>.' }),
  // Optional in the schema because the host validates the config document, where secrets never are; start() insists.
  secret: z
    .string()
    .min(16, 'use at least 16 characters')
    .optional()
    .meta({ label: 'Secret', help: `Senders must present it as the ${SECRET_HEADER} header, "Authorization: Bearer <secret>", or ?secret= in the URL.`, secret: true }),
});
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

const definition: MonitorDefinition<WebhookConfig> = {
  type: 'webhook',
  badge: 'HOOK',
  category: 'Incoming',
  title: 'Webhook in',
  description: `Receives POST requests at /hooks/<id> on the agent's server (secret required, body up to ${MAX_BODY_BYTES / 1024 / 1024} MiB) and turns their body into an event. A request repeating the Idempotency-Key of one of the last ${withCommas(REMEMBERED_KEYS)} is answered 200 and not stored again.`,
  configSchema: webhookConfigSchema,
  events: [
    {
      type: 'webhook.received',
      description: 'A sender posted to this hook with the right secret.',
      fields: {
        '<key>': 'Each key of a JSON object body or of a form body (repeated form keys become arrays)',
        value: 'The body, when JSON that is not an object (an array, a number, a string)',
        text: 'The body, when sent as plain text',
      },
    },
  ],
  routes: [{ prefix: '/hooks/', describe: 'POST /hooks/<hook id>', handle: webhookRoute() }],
  create(ctx) {
    let unregister: (() => void) | null = null;
    // Keys of recent deliveries, kept with the events (same transaction), oldest first; a sender retrying after a
    // lost answer or a crash gives the same key, and the repeat is dropped.
    const inProgress = new Set<string>();
    const emitOnce = async (event: Parameters<typeof ctx.emit>[0], key?: string): Promise<boolean> => {
      if (!key) {
        await ctx.emit(event);
        return true;
      }
      const recent = ctx.state.get<string[]>(KEYS_STATE) ?? [];
      if (inProgress.has(key) || recent.includes(key)) return false;
      inProgress.add(key);
      try {
        const next = [...(ctx.state.get<string[]>(KEYS_STATE) ?? []), key].slice(-REMEMBERED_KEYS);
        await ctx.emit(event, { state: { [KEYS_STATE]: next } });
        return true;
      } finally {
        inProgress.delete(key);
      }
    };
    return {
      start() {
        const secret = ctx.secrets.secret ?? ctx.config.secret;
        if (!secret) throw new Error('set a secret for this hook; without one anybody could post events');
        // A dry run has nothing to show: events only exist when someone posts.
        if (ctx.dryRun) return;
        unregister = webhookRegistry.register({ id: ctx.config.hookId, secret, name: ctx.name, emit: emitOnce });
        ctx.log.info(`listening at POST /hooks/${ctx.config.hookId}`);
      },
      stop() {
        unregister?.();
        unregister = null;
      },
    };
  },
};

export default definition;
