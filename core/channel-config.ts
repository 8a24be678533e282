// A channel's settings as the engine keeps them: validated by the channel's own schema, secrets (the fields the
// schema marks `secret: true`) split off into the secret store, so that the config document, logs and exports
// never hold a token.
import { z } from 'zod';
import type { ChannelDefinition } from './notification-channel.js';
import { formatPath } from './config/config-store.js';

export class ChannelConfigError extends Error {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(issues.map((i) => `${i.path.replace(/^\$\.?/, '') || 'config'}: ${i.message}`).join('; '));
    this.name = 'ChannelConfigError';
  }
}

/** Validate a channel's full config (settings and secrets together); issues carry JSON paths like `$.token`. */
export function parseChannelConfig<C>(def: ChannelDefinition<C>, config: unknown): C {
  const r = (def.configSchema as z.ZodType<C>).safeParse(config ?? {});
  if (!r.success) throw new ChannelConfigError(r.error.issues.map((i) => ({ path: formatPath(i.path), message: friendly(i) })));
  return r.data;
}

/** zod's "Invalid input: expected string, received undefined" says nothing to a person filling a form. */
function friendly(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return 'required';
  return issue.message;
}

const secretCache = new WeakMap<object, string[]>();

/** Names of the config fields a channel's schema marks `.meta({ secret: true })`. */
export function channelSecretFields(def: Pick<ChannelDefinition, 'configSchema'>): string[] {
  const hit = secretCache.get(def.configSchema);
  if (hit) return hit;
  const json = z.toJSONSchema(def.configSchema as z.ZodType, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, { secret?: boolean }> };
  const names = Object.entries(json.properties ?? {})
    .filter(([, p]) => p && p.secret === true)
    .map(([k]) => k);
  secretCache.set(def.configSchema, names);
  return names;
}

/**
 * Split what a form or a URL gave into settings and secrets. An empty secret means "leave the stored one"; null
 * means "remove it" (kept as null so the secret store deletes it).
 */
export function splitChannelSecrets(def: Pick<ChannelDefinition, 'configSchema'>, config: Record<string, unknown>): { plain: Record<string, unknown>; secrets: Record<string, string | null> } {
  const names = new Set(channelSecretFields(def));
  const plain: Record<string, unknown> = {};
  const secrets: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(config ?? {})) {
    if (names.has(k)) {
      if (v === null) secrets[k] = null;
      else if (typeof v === 'string' && v !== '') secrets[k] = v;
    } else if (v !== undefined) plain[k] = v;
  }
  return { plain, secrets };
}

/** The JSON Schema the Settings form is built from (labels, help and secret marks in each property). */
export function channelJsonSchema(def: Pick<ChannelDefinition, 'configSchema'>): Record<string, unknown> {
  return z.toJSONSchema(def.configSchema as z.ZodType, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
