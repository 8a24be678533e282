// The protocol's `channels.*` requests: list the types (with the schema the Settings form is built from), add one
// from a form or an Apprise-style URL, change, remove, and send a test notification. Secrets are split off by the
// type's schema into the secret store; what goes back to a client never holds one.
import type { ChannelDefinition } from '../../core/notification-channel.js';
import { ChannelError } from '../../core/notification-channel.js';
import { ChannelConfigError, channelJsonSchema, parseChannelConfig, splitChannelSecrets } from '../../core/channel-config.js';
import { CHANNEL_ID, type ChannelEntry } from '../../core/config/schema.js';
import type { ChannelInfo, ChannelTestResult, ChannelTypeInfo, ValidationIssue } from '../../core/protocol.js';
import { RequestError, type HandlersOf } from '../../core/rpc/server.js';
import { mergeSecretValues } from '../../core/secrets.js';
import { channelFromUrl } from '../../channels/registry.js';
import { testNotification } from '../../channels/message-text.js';
import { channelSecretOwner, type ChannelSender } from '../channel-sender.js';

/** What of the engine these handlers use (kept narrow so they can be served by any engine shape). */
export interface ChannelHost {
  channelTypes: Map<string, ChannelDefinition>;
  channels: ChannelSender;
  config: { readonly current: { channels: ChannelEntry[] }; update(fn: (d: { channels: ChannelEntry[] }) => void): Promise<unknown> };
  secrets: { get(owner: string): Record<string, string>; set(owner: string, values: Record<string, string | null | undefined>): void; delete(owner: string): void };
  broadcast(topic: 'channels', data: ChannelInfo[]): void;
}

export function channelHandlers(engine: ChannelHost): HandlersOf<'channels'> {
  const info = (c: ChannelEntry): ChannelInfo => ({
    id: c.id,
    type: c.type,
    name: c.name,
    enabled: c.enabled,
    config: c.config,
    secretsSet: Object.keys(engine.secrets.get(channelSecretOwner(c.id))),
    health: engine.channels.health(c.id),
  });
  const list = () => engine.config.current.channels.map(info);
  const announce = () => engine.broadcast('channels', list());
  const typeOf = (type: unknown): ChannelDefinition => {
    const def = engine.channelTypes.get(String(type));
    if (!def) throw new RequestError('invalid', `unknown channel type "${String(type)}" (known: ${[...engine.channelTypes.keys()].join(', ')})`, [{ path: '$.type', message: 'unknown channel type' }]);
    return def;
  };
  /** A form's type+config, or a URL: the type and the config it gives. */
  const fromParams = (p: { type?: string; config?: Record<string, unknown>; url?: string }): { def: ChannelDefinition; config: Record<string, unknown> } => {
    if (p.url) {
      try {
        const { type, config } = channelFromUrl(p.url, engine.channelTypes.values());
        return { def: typeOf(type), config: { ...config, ...(p.config ?? {}) } };
      } catch (err) {
        if (err instanceof ChannelError) throw new RequestError('invalid', err.message, [{ path: '$.url', message: err.message }]);
        throw err;
      }
    }
    return { def: typeOf(p.type), config: p.config ?? {} };
  };

  return {
    'channels.types': (): ChannelTypeInfo[] =>
      [...engine.channelTypes.values()].map((d) => ({ type: d.type, title: d.title, description: d.description, configSchema: channelJsonSchema(d), urlSchemes: d.urlSchemes ?? [] })),

    'channels.list': () => list(),

    'channels.add': async (p) => {
      const { def, config } = fromParams(p ?? {});
      const { plain, secrets } = splitChannelSecrets(def, config);
      check(def, { ...plain, ...secrets });
      const name = String(p?.name ?? '').trim() || def.title;
      const id = p.id ?? uniqueId(engine.config.current.channels, def.type, name);
      if (!CHANNEL_ID.test(id) || engine.config.current.channels.some((c) => c.id === id)) throw new RequestError('invalid', `channel id "${id}" is taken or malformed`, [{ path: '$.id', message: 'taken or malformed' }]);
      const entry: ChannelEntry = { id, type: def.type, name, enabled: p.enabled ?? true, config: plain };
      await engine.config.update((d) => void d.channels.push(entry));
      const toStore = Object.fromEntries(Object.entries(secrets).filter(([, v]) => v != null));
      if (Object.keys(toStore).length) engine.secrets.set(channelSecretOwner(id), toStore);
      announce();
      return info(entry);
    },

    'channels.update': async (p) => {
      const current = engine.config.current.channels.find((c) => c.id === p?.id);
      if (!current) throw new RequestError('not_found', `no channel "${p?.id}"`);
      const def = engine.channelTypes.get(current.type);
      let plain = current.config;
      let secrets: Record<string, string | null> = {};
      if (p.config) {
        if (!def) throw new RequestError('invalid', `unknown channel type "${current.type}"`);
        ({ plain, secrets } = splitChannelSecrets(def, p.config));
        const merged = mergeSecretValues(engine.secrets.get(channelSecretOwner(current.id)), secrets);
        check(def, { ...plain, ...merged });
      }
      if (p.name !== undefined && !String(p.name).trim()) throw new RequestError('invalid', 'a channel needs a name', [{ path: '$.name', message: 'required' }]);
      await engine.config.update((d) => {
        const c = d.channels.find((x) => x.id === p.id)!;
        if (p.name !== undefined) c.name = String(p.name).trim();
        if (p.enabled !== undefined) c.enabled = Boolean(p.enabled);
        c.config = plain;
      });
      if (Object.keys(secrets).length) engine.secrets.set(channelSecretOwner(current.id), secrets);
      announce();
      return info(engine.config.current.channels.find((c) => c.id === p.id)!);
    },

    'channels.remove': async (p) => {
      if (!engine.config.current.channels.some((c) => c.id === p?.id)) return { removed: false };
      await engine.config.update((d) => void (d.channels = d.channels.filter((c) => c.id !== p.id)));
      engine.secrets.delete(channelSecretOwner(p.id));
      engine.channels.forget(p.id);
      announce();
      return { removed: true };
    },

    'channels.validate': (p) => {
      const saved = p.id ? engine.config.current.channels.find((c) => c.id === p.id) : undefined;
      if (p.id && !saved) throw new RequestError('not_found', `no channel "${p.id}"`);
      const def = typeOf(saved ? saved.type : p.type);
      const { plain, secrets } = splitChannelSecrets(def, p.config ?? {});
      // As channels.update reads it: a secret left empty is the stored one.
      const merged = mergeSecretValues(saved ? engine.secrets.get(channelSecretOwner(saved.id)) : {}, secrets);
      try {
        parseChannelConfig(def, { ...plain, ...merged });
        return { issues: [] };
      } catch (err) {
        if (err instanceof ChannelConfigError) return { issues: err.issues };
        throw err;
      }
    },

    'channels.test': async (p): Promise<ChannelTestResult> => {
      let id: string;
      let def: ChannelDefinition;
      let config: Record<string, unknown>;
      let secrets: Record<string, string>;
      const saved = p?.id ? engine.config.current.channels.find((c) => c.id === p.id) : undefined;
      if (p?.id && !saved) throw new RequestError('not_found', `no channel "${p.id}"`);
      if (saved) {
        id = saved.id;
        def = typeOf(saved.type);
        // The form's unsaved changes apply; secrets left empty are the stored ones.
        const split = splitChannelSecrets(def, p.config ?? {});
        config = p.config ? split.plain : saved.config;
        secrets = mergeSecretValues(engine.secrets.get(channelSecretOwner(saved.id)), split.secrets);
      } else {
        const from = fromParams(p ?? {});
        def = from.def;
        const split = splitChannelSecrets(def, from.config);
        id = `${def.type}:unsaved`;
        config = split.plain;
        secrets = mergeSecretValues({}, split.secrets);
      }
      try {
        // Only a test of the saved settings says something about the saved channel's health.
        await engine.channels.deliver(id, def.type, config, secrets, testNotification(id), { record: Boolean(saved && !p.config) });
        if (saved && !p.config) announce();
        return { ok: true, message: `${def.title} accepted the test notification`, field: null, retryAfterMs: null };
      } catch (err) {
        if (saved && !p.config) announce();
        const e = err instanceof ChannelError ? err : new ChannelError(String((err as Error)?.message ?? err));
        return { ok: false, message: e.message, field: e.field, retryAfterMs: e.retryAfterMs };
      }
    },
  };
}

function check(def: ChannelDefinition, config: Record<string, unknown>): void {
  try {
    parseChannelConfig(def, config);
  } catch (err) {
    if (err instanceof ChannelConfigError) throw new RequestError('invalid', `the settings are not valid: ${err.message}`, err.issues as ValidationIssue[]);
    throw err;
  }
}

function uniqueId(existing: readonly ChannelEntry[], type: string, name: string): string {
  const slug = name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'channel';
  const taken = new Set(existing.map((c) => c.id));
  let id = `${type}:${slug}`;
  for (let i = 2; taken.has(id); i++) id = `${type}:${slug}-${i}`;
  return id;
}
