import { z } from 'zod';
import type { Engine } from './engine.js';
import type { Method, MonitorInfo, MonitorTypeInfo, Settings } from '../core/protocol.js';
import { RequestError } from '../core/rpc/server.js';
import { dryRunMonitor, parseMonitorConfig, ConfigInvalidError } from '../core/monitor-host.js';
import { stripSeq } from '../core/store/index.js';
import { MONITOR_ID, settingsSchema, type MonitorEntry } from '../core/config/schema.js';
import { validateRule, replay, RuleEngine } from '../rules/index.js';
import { renderTemplate } from '../rules/templates.js';
import { toRef } from '../rules/engine.js';
import { parseDuration } from '../core/duration.js';
import { parseOpml, buildOpml } from '../monitors/rss/opml.js';
import { forwardingInfo, updateForwarding, ForwardingSettingsError } from './forwarding/settings.js';
import { channelHandlers } from './handlers/channels.js';

type Handler = (params: any) => Promise<unknown> | unknown;

/** The protocol's requests, answered by the engine. Every input is validated; errors say what and where. */
export function createServiceHandler(engine: Engine): (method: Method, params: unknown) => Promise<unknown> {
  const handlers: Record<Method, Handler> = {
    hello: () => ({ version: 1, agentId: engine.agentId, dataDir: engine.dataDir, paused: engine.paused }),

    'events.list': (p) => {
      const page = engine.store.events.list(p ?? {});
      return page;
    },
    'events.get': (p: { id: string }) => {
      const e = engine.store.events.get(String(p?.id));
      return e ? stripSeq(e) : null;
    },
    'events.count': (p) => engine.store.events.countUpTo(p ?? {}),

    'monitors.types': (): MonitorTypeInfo[] =>
      [...engine.definitions.values()].map((d) => ({
        type: d.type,
        title: d.title,
        description: d.description,
        configSchema: z.toJSONSchema(d.configSchema as z.ZodType, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
        events: d.events,
      })),
    'monitors.list': () => engine.config.current.monitors.map((m) => monitorInfo(engine, m)),
    'monitors.add': async (p: { type: string; name: string; config?: Record<string, unknown>; enabled?: boolean; id?: string }) => {
      const def = engine.definitions.get(String(p?.type));
      if (!def) throw new RequestError('invalid', `unknown monitor type "${p?.type}"`);
      const name = String(p.name ?? '').trim();
      if (!name) throw new RequestError('invalid', 'a monitor needs a name', [{ path: '$.name', message: 'required' }]);
      const { plain, secrets } = splitSecrets(engine, def.type, p.config ?? {});
      checkConfig(def, { ...plain, ...secrets });
      const id = p.id ?? uniqueId(engine, def.type, name);
      if (!MONITOR_ID.test(id) || engine.config.current.monitors.some((m) => m.id === id)) throw new RequestError('invalid', `monitor id "${id}" is taken or malformed`);
      const entry: MonitorEntry = { id, type: def.type, name, enabled: p.enabled ?? true, config: plain };
      await engine.config.update((d) => void d.monitors.push(entry));
      if (Object.keys(secrets).length) engine.secrets.set(id, secrets);
      await engine.restartMonitor(id);
      broadcastMonitors(engine);
      return monitorInfo(engine, entry);
    },
    'monitors.update': async (p: { id: string; name?: string; config?: Record<string, unknown>; enabled?: boolean; retentionDays?: number | null }) => {
      const current = engine.config.current.monitors.find((m) => m.id === p?.id);
      if (!current) throw new RequestError('not_found', `no monitor "${p?.id}"`);
      const def = engine.definitions.get(current.type);
      let plain = current.config;
      let secrets: Record<string, string> = {};
      if (p.config) {
        ({ plain, secrets } = splitSecrets(engine, current.type, p.config));
        if (def) checkConfig(def, { ...plain, ...engine.secrets.get(current.id), ...secrets });
      }
      await engine.config.update((d) => {
        const m = d.monitors.find((x) => x.id === p.id)!;
        if (p.name !== undefined) m.name = String(p.name);
        if (p.enabled !== undefined) m.enabled = Boolean(p.enabled);
        if (p.retentionDays !== undefined) m.retentionDays = p.retentionDays;
        m.config = plain;
      });
      if (Object.keys(secrets).length) engine.secrets.set(current.id, secrets);
      await engine.restartMonitor(current.id);
      broadcastMonitors(engine);
      return monitorInfo(engine, engine.config.current.monitors.find((m) => m.id === p.id)!);
    },
    'monitors.remove': async (p: { id: string }) => {
      const exists = engine.config.current.monitors.some((m) => m.id === p?.id);
      if (!exists) return { removed: false };
      await engine.host.stop(p.id);
      await engine.config.update((d) => void (d.monitors = d.monitors.filter((m) => m.id !== p.id)));
      engine.secrets.delete(p.id);
      engine.store.monitorState.clear(p.id);
      broadcastMonitors(engine);
      return { removed: true };
    },
    'monitors.test': async (p: { type: string; config?: Record<string, unknown>; id?: string }) => {
      const def = engine.definitions.get(String(p?.type));
      if (!def) throw new RequestError('invalid', `unknown monitor type "${p?.type}"`);
      const { plain, secrets } = splitSecrets(engine, def.type, p.config ?? {});
      const stored = p.id ? engine.secrets.get(p.id) : {};
      try {
        const events = await dryRunMonitor(def, { ...plain, ...stored, ...secrets }, { ...stored, ...secrets }, { timeoutMs: 20_000 });
        return { events };
      } catch (err) {
        if (err instanceof ConfigInvalidError) throw new RequestError('invalid', err.message, err.issues);
        throw new RequestError('unavailable', (err as Error).message);
      }
    },
    'monitors.checkNow': (p: { id: string }) => ({ started: engine.host.checkNow(String(p?.id)) }),
    'monitors.importOpml': async (p: { opml: string; intervalMinutes?: number }) => {
      let feeds;
      try {
        feeds = parseOpml(String(p?.opml ?? ''));
      } catch (err) {
        throw new RequestError('invalid', `not an OPML file: ${(err as Error).message}`);
      }
      const watched = new Set(engine.config.current.monitors.filter((m) => m.type === 'rss').map((m) => String(m.config.url)));
      const added: string[] = [];
      const skipped: string[] = [];
      for (const f of feeds) {
        if (watched.has(f.xmlUrl)) {
          skipped.push(f.xmlUrl);
          continue;
        }
        const config = { url: f.xmlUrl, ...(p.intervalMinutes ? { intervalMinutes: p.intervalMinutes } : {}) };
        const info = (await handlers['monitors.add']({ type: 'rss', name: f.title || f.xmlUrl, config })) as MonitorInfo;
        watched.add(f.xmlUrl);
        added.push(info.id);
      }
      return { added, skipped };
    },
    'monitors.exportOpml': () => ({
      opml: buildOpml(engine.config.current.monitors.filter((m) => m.type === 'rss').map((m) => ({ title: m.name, xmlUrl: String(m.config.url), htmlUrl: null, category: null }))),
    }),
    'monitors.pauseAll': async (p: { paused: boolean }) => {
      await engine.setPaused(Boolean(p?.paused));
      broadcastMonitors(engine);
      return { paused: engine.paused };
    },

    'rules.list': () => ({ rules: engine.config.current.rules, errors: engine.ruleErrors }),
    'rules.validate': (p: { rule: unknown }) => {
      const r = validateRule(p?.rule);
      return { ok: r.errors.length === 0, errors: r.errors.map(({ path, message }) => ({ path, message })) };
    },
    'rules.save': async (p: { rule: unknown }) => {
      const r = validateRule(p?.rule);
      if (!r.rule || r.errors.length) throw new RequestError('invalid', `the rule is not valid: ${r.errors[0]?.path}: ${r.errors[0]?.message}`, r.errors);
      const rule = p.rule as { id: string };
      await engine.config.update((d) => {
        const i = d.rules.findIndex((x) => x.id === rule.id);
        if (i >= 0) d.rules[i] = rule as (typeof d.rules)[number];
        else d.rules.push(rule as (typeof d.rules)[number]);
      });
      engine.loadRules();
      engine.broadcast('rules', { changed: true });
      return { rule: p.rule };
    },
    'rules.replaceAll': async (p: { rules: unknown[] }) => {
      if (!Array.isArray(p?.rules)) throw new RequestError('invalid', 'rules must be an array');
      const problems = p.rules.flatMap((rule, i) => validateRule(rule).errors.map((e) => ({ path: `$[${i}]${e.path.slice(1)}`, message: e.message })));
      if (problems.length) throw new RequestError('invalid', `${problems.length} problem(s): ${problems[0]!.path}: ${problems[0]!.message}`, problems);
      await engine.config.update((d) => void (d.rules = p.rules as typeof d.rules));
      engine.loadRules();
      engine.broadcast('rules', { changed: true });
      return { count: p.rules.length };
    },
    'rules.remove': async (p: { id: string }) => {
      const exists = engine.config.current.rules.some((r) => r.id === p?.id);
      if (!exists) return { removed: false };
      await engine.config.update((d) => void (d.rules = d.rules.filter((r) => r.id !== p.id)));
      engine.loadRules();
      engine.broadcast('rules', { changed: true });
      return { removed: true };
    },
    'rules.test': (p: { rule: unknown; since?: string; until?: string; flags?: Record<string, boolean> }) => {
      const r = validateRule(p?.rule);
      if (!r.rule) return { firings: [], eventsScanned: 0, errors: r.errors };
      const until = p.until ? new Date(p.until) : new Date();
      const since = p.since ? new Date(p.since) : new Date(until.getTime() - parseDuration('7d'));
      const events = [];
      let after: string | undefined;
      // Keyset pages through the range; the engine runs in event time with no side effects.
      for (let n = 0; n < 200; n++) {
        const page = engine.store.events.list({ since: since.toISOString(), until: until.toISOString(), order: 'asc', limit: 1000, ...(after ? { after } : {}) });
        events.push(...page.events);
        if (!page.next) break;
        after = page.next;
      }
      const firings = replay([r.rule], events, { flags: p.flags ?? {}, until: until.toISOString(), traces: true });
      return { firings, eventsScanned: events.length, errors: [] };
    },
    'rules.explain': (p: { eventId: string; ruleId?: string }) => {
      const e = engine.store.events.get(String(p?.eventId));
      if (!e) throw new RequestError('not_found', `no event "${p?.eventId}"`);
      const verdicts = engine.rules.explain(stripSeq(e), { now: Date.parse(e.receivedAt), flags: engine.flags.values() });
      return { verdicts: p.ruleId ? verdicts.filter((v) => v.ruleId === p.ruleId) : verdicts };
    },
    'rules.preview': (p: { template: string; eventId?: string; ruleId?: string }) => {
      const e = p?.eventId ? engine.store.events.get(String(p.eventId)) : engine.store.events.list({ limit: 1 }).events[0] ?? null;
      if (p?.eventId && !e) throw new RequestError('not_found', `no event "${p.eventId}"`);
      const ref = e ? toRef(stripSeq(e as never)) : null;
      const rule = engine.config.current.rules.find((r) => r.id === p?.ruleId);
      const scope = {
        ...(ref ?? {}),
        event: ref,
        events: ref ? [ref] : [],
        count: ref ? 1 : 0,
        flags: engine.flags.values(),
        rule: { id: rule?.id ?? p?.ruleId ?? 'preview', name: (rule as { name?: string } | undefined)?.name ?? '' },
        now: new Date().toISOString(),
      };
      const out = renderTemplate(String(p?.template ?? ''), scope);
      return { text: out.text, error: out.error ?? null, eventId: e?.id ?? null };
    },
    'traces.list': (p: { ruleId?: string; limit?: number }) => ({ traces: engine.store.traces.list(p?.ruleId, Math.min(500, p?.limit ?? 50)) }),

    'flags.list': () => engine.flags.list(),
    'flags.set': (p: { name: string; for?: string }) => {
      try {
        return engine.flags.set(String(p?.name), { for: p?.for ?? null, by: 'user' });
      } catch (err) {
        throw new RequestError('invalid', (err as Error).message);
      }
    },
    'flags.clear': (p: { name: string }) => ({ cleared: engine.flags.clear(String(p?.name), 'user') }),

    'settings.get': (): Settings => engine.config.current.settings,
    'settings.update': async (p: Partial<Settings>) => {
      const merged = settingsSchema.safeParse({ ...engine.config.current.settings, ...(p ?? {}), notifications: { ...engine.config.current.settings.notifications, ...(p?.notifications ?? {}) } });
      if (!merged.success) {
        const i = merged.error.issues[0]!;
        throw new RequestError('invalid', `${i.path.join('.')}: ${i.message}`);
      }
      await engine.config.update((d) => void (d.settings = merged.data));
      engine.store.traces.limitPerRule = merged.data.traceLimitPerRule;
      return engine.config.current.settings;
    },
    'notifications.recent': (p: { limit?: number }) => engine.store.notifications.recent(Math.min(500, p?.limit ?? 50)),

    'forwarding.get': () => forwardingInfo(engine, engine.forwarding),
    'forwarding.update': async (p: unknown) => {
      try {
        return await updateForwarding(engine, engine.forwarding, p);
      } catch (err) {
        if (err instanceof ForwardingSettingsError) throw new RequestError('invalid', `forwarding settings not saved: ${err.message}`, err.issues);
        throw err;
      }
    },
    ...channelHandlers(engine),
  };

  return async (method, params) => {
    const h = handlers[method];
    if (!h) throw new RequestError('bad_request', `unknown method "${String(method)}"`);
    return h(params);
  };
}

function monitorInfo(engine: Engine, m: MonitorEntry): MonitorInfo {
  return { ...m, secretsSet: Object.keys(engine.secrets.get(m.id)), health: engine.healthOf(m.id) };
}

function broadcastMonitors(engine: Engine): void {
  engine.broadcast('monitors', engine.config.current.monitors.map((m) => monitorInfo(engine, m)));
}

/** Secret fields (by the type's schema) are pulled out of what the UI sent: they never reach the config document. */
function splitSecrets(engine: Engine, type: string, config: Record<string, unknown>): { plain: Record<string, unknown>; secrets: Record<string, string> } {
  const names = new Set(engine.secretFieldsOf(type));
  const plain: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  for (const [k, v] of Object.entries(config ?? {})) {
    if (names.has(k)) {
      if (typeof v === 'string' && v !== '') secrets[k] = v;
    } else plain[k] = v;
  }
  return { plain, secrets };
}

function checkConfig(def: Parameters<typeof parseMonitorConfig>[0], config: unknown): void {
  try {
    parseMonitorConfig(def, config);
  } catch (err) {
    if (err instanceof ConfigInvalidError) throw new RequestError('invalid', err.message, err.issues);
    throw err;
  }
}

function uniqueId(engine: Engine, type: string, name: string): string {
  const slug = name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'monitor';
  const taken = new Set(engine.config.current.monitors.map((m) => m.id));
  let id = `${type}:${slug}`;
  for (let i = 2; taken.has(id); i++) id = `${type}:${slug}-${i}`;
  return id;
}

export { RuleEngine };
