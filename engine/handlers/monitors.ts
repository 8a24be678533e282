import { z } from 'zod';
import type { MonitorInfo } from '../../core/protocol.js';
import { RequestError, type HandlersOf } from '../../core/rpc/server.js';
import { PickConfigError } from '../../core/monitor.js';
import { dryRunMonitor, parseMonitorConfig, ConfigInvalidError } from '../../core/monitor-host.js';
import { MONITOR_ID, monitorIdFor, type MonitorEntry } from '../../core/config/schema.js';
import { parseOpml, buildOpml, discoverFeeds } from '../monitor-registry.js';
import { opmlIntervalProblem, planOpmlImport, type OpmlImport } from '../opml-import.js';
import type { HandlerHost } from './host.js';
import type { MonitorDefinition } from '../../core/monitor.js';
import { boundedFetch } from '../../base/http.js';
import { forList } from '../../core/event-cap.js';
import { monitorInfoOf, type SignIns } from '../sign-ins.js';
import { sameSource, sourceKeys } from '../same-source.js';

/** A form waits on a lookup (a place name): past this it is told the service did not answer. */
const LOOKUP_TIMEOUT_MS = 15_000;
/** A type's own config checks (`validate`) answer within this, or say nothing (its checks then say it). */
const VALIDATE_TIMEOUT_MS = 15_000;
/** Picks render a whole page in a browser each: a few at a time, so a page left clicking cannot load the machine. */
const MAX_PICKS_AT_ONCE = 2;

export function monitorHandlers(engine: HandlerHost, signIns: SignIns) {
  let picking = 0;
  const handlers = {
    'monitors.types': () =>
      [...engine.definitions.values()].map((d) => ({
        type: d.type,
        title: d.title,
        description: d.description,
        badge: d.badge ?? d.type.slice(0, 4).toUpperCase(),
        category: d.category ?? null,
        routes: (d.routes ?? []).map((r) => ({ describe: r.describe, url: engine.routesAddress.url ? engine.routesAddress.url + r.prefix : null, problem: engine.routesAddress.problem })),
        configSchema: z.toJSONSchema(d.configSchema as z.ZodType, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
        events: d.events,
        oauth: d.oauth
          ? {
              grantField: d.oauth.grantField,
              shownWhen: d.oauth.shownWhen ?? null,
              providerField: d.oauth.providerField ?? null,
              providerNames: d.oauth.providerNames ?? {},
              fields: [...new Set([...(d.oauth.providerField ? [d.oauth.providerField] : []), ...Object.values(d.oauth.fields ?? {})])],
            }
          : null,
        lookup: d.lookup ? { field: d.lookup.field, label: d.lookup.label, choicesLabel: d.lookup.choicesLabel, fills: d.lookup.fills } : null,
        picker: d.picker ? { field: d.picker.field } : null,
      })),
    'monitors.list': () => engine.config.current.monitors.map((m) => monitorInfo(engine, m)),
    'monitors.add': async (p) => {
      const def = engine.definitions.get(p.type);
      if (!def) throw new RequestError('invalid', `unknown monitor type "${p.type}"`);
      const name = p.name.trim();
      if (!name) throw new RequestError('invalid', 'a monitor needs a name', [{ path: '$.name', message: 'required' }]);
      const { plain, secrets } = splitSecrets(engine, def.type, p.config ?? {});
      if (p.signInId) Object.assign(secrets, signIns.take(p.signInId, def.type));
      await checkConfig(def, { ...plain, ...secrets });
      const id = p.id ?? monitorIdFor(def.type, name, new Set(engine.config.current.monitors.map((m) => m.id)));
      if (!MONITOR_ID.test(id) || engine.config.current.monitors.some((m) => m.id === id)) throw new RequestError('invalid', `monitor id "${id}" is taken or malformed`);
      const entry: MonitorEntry = { id, type: def.type, name, enabled: p.enabled ?? true, config: plain };
      await engine.config.update((d) => void d.monitors.push(entry));
      if (Object.keys(secrets).length) engine.secrets.set(id, secrets);
      if (p.signInId) signIns.taken(p.signInId, id);
      await engine.restartMonitor(id);
      broadcastMonitors(engine);
      return monitorInfo(engine, entry);
    },
    'monitors.update': async (p) => {
      const current = engine.config.current.monitors.find((m) => m.id === p.id);
      if (!current) throw new RequestError('not_found', `no monitor "${p.id}"`);
      const def = engine.definitions.get(current.type);
      let plain = current.config;
      let secrets: Record<string, string> = {};
      if (p.config) {
        ({ plain, secrets } = splitSecrets(engine, current.type, p.config));
        if (def) await checkConfig(def, { ...plain, ...engine.secrets.get(current.id), ...secrets });
      }
      await engine.config.update((d) => {
        const m = d.monitors.find((x) => x.id === p.id)!;
        if (p.name !== undefined) m.name = p.name;
        if (p.enabled !== undefined) m.enabled = p.enabled;
        if (p.retentionDays !== undefined) m.retentionDays = p.retentionDays;
        m.config = plain;
      });
      if (Object.keys(secrets).length) engine.secrets.set(current.id, secrets);
      await engine.restartMonitor(current.id);
      broadcastMonitors(engine);
      return monitorInfo(engine, engine.config.current.monitors.find((m) => m.id === p.id)!);
    },
    'monitors.remove': async (p) => {
      const exists = engine.config.current.monitors.some((m) => m.id === p.id);
      if (!exists) return { removed: false };
      await engine.host.stop(p.id);
      await engine.config.update((d) => void (d.monitors = d.monitors.filter((m) => m.id !== p.id)));
      engine.secrets.delete(p.id);
      engine.store.monitorState.clear(p.id);
      engine.store.versions.clear(p.id);
      broadcastMonitors(engine);
      return { removed: true };
    },
    'monitors.test': async (p) => {
      const def = engine.definitions.get(p.type);
      if (!def) throw new RequestError('invalid', `unknown monitor type "${p.type}"`);
      const { plain, secrets } = splitSecrets(engine, def.type, p.config ?? {});
      const stored = { ...(p.id ? engine.secrets.get(p.id) : {}), ...(p.signInId ? signIns.take(p.signInId, def.type) : {}) };
      try {
        const events = await dryRunMonitor(def, { ...plain, ...stored, ...secrets }, { ...stored, ...secrets }, { timeoutMs: 20_000 });
        // Capped as lists cap events: a source of many huge items must not answer one message of megabytes. The
        // form shows a line of each; the whole items are what the monitor will store once it runs.
        return { events: events.map(forList) };
      } catch (err) {
        if (err instanceof ConfigInvalidError) throw new RequestError('invalid', err.message, err.issues);
        throw new RequestError('unavailable', (err as Error).message);
      }
    },
    'monitors.validate': async (p) => {
      const def = engine.definitions.get(p.type);
      if (!def) throw new RequestError('invalid', `unknown monitor type "${p.type}"`);
      const { plain, secrets } = splitSecrets(engine, def.type, p.config ?? {});
      try {
        const config = parseMonitorConfig(def, { ...plain, ...(p.id ? engine.secrets.get(p.id) : {}), ...secrets });
        const issues = await typeChecks(def, config);
        if (issues.length) return { issues };
        return { issues: [], sameAs: sameSourceAs(engine, def, config, p.id) };
      } catch (err) {
        if (err instanceof ConfigInvalidError) return { issues: err.issues };
        throw err;
      }
    },
    'monitors.lookup': async (p) => {
      const lookup = engine.definitions.get(p.type)?.lookup;
      if (!lookup) throw new RequestError('invalid', `monitor type "${p.type}" has nothing to look up`);
      const query = p.query.trim();
      const at = `$.config.${lookup.field}`;
      if (!query) throw new RequestError('invalid', 'nothing to look up', [{ path: at, message: 'Type what to look up first' }]);
      const signal = AbortSignal.timeout(LOOKUP_TIMEOUT_MS);
      try {
        const choices = await lookup.search(query, p.config ?? {}, { fetch: (url, options) => boundedFetch(url, { timeoutMs: LOOKUP_TIMEOUT_MS, ...options }, signal), signal });
        return { choices };
      } catch (err) {
        const message = (err as Error).message;
        throw new RequestError('unavailable', message, [{ path: at, message }]);
      }
    },
    'monitors.checkNow': (p) => ({ started: engine.host.checkNow(p.id) }),
    'monitors.importOpml': async (p) => {
      let feeds;
      try {
        feeds = await parseOpml(p.opml);
      } catch (err) {
        throw new RequestError('invalid', `not an OPML file: ${(err as Error).message}`);
      }
      const rss = engine.definitions.get('rss');
      if (!rss) throw new RequestError('unavailable', 'the rss monitor type is not loaded');
      const problem = opmlIntervalProblem(rss, p.intervalMinutes);
      if (problem) throw new RequestError('invalid', `intervalMinutes: ${problem}`, [{ path: '$.intervalMinutes', message: problem }]);
      let plan: OpmlImport = { add: [], skipped: [], refused: [] };
      // Planned against the document being changed, as `panoptes opml import` does, so both give the same ids.
      await engine.config.update((d) => {
        plan = planOpmlImport(d.monitors, feeds, rss, p.intervalMinutes);
        d.monitors.push(...plan.add);
      });
      for (const m of plan.add) await engine.restartMonitor(m.id);
      if (plan.add.length) broadcastMonitors(engine);
      return { added: plan.add.map((m) => m.id), skipped: plan.skipped, ...(plan.refused.length ? { refused: plan.refused } : {}) };
    },
    'monitors.discoverFeed': async (p) => {
      let feeds;
      try {
        feeds = await discoverFeeds(p.url);
      } catch (err) {
        throw new RequestError('invalid', (err as Error).message, [{ path: '$.url', message: (err as Error).message }]);
      }
      // A feed already watched is named, so adding it twice (double events and notifications) is a choice, not an
      // accident; by the same check as the monitor form's.
      const rss = engine.definitions.get('rss');
      const watchedBy = (url: string) => (rss ? sameSourceAs(engine, rss, { url }, undefined)?.name ?? null : null);
      return { feeds: feeds.map((f) => ({ ...f, watchedBy: watchedBy(f.url) })) };
    },
    'monitors.pick': async (p) => {
      const def = engine.definitions.get(p.type);
      if (!def) throw new RequestError('invalid', `unknown monitor type "${p.type}"`);
      if (!def.picker) throw new RequestError('invalid', `a ${def.title} monitor has nothing to pick on`);
      if (picking >= MAX_PICKS_AT_ONCE) throw new RequestError('unavailable', `${MAX_PICKS_AT_ONCE} pages are being rendered for picking already; try again when one is done`);
      picking++;
      try {
        return await def.picker.pick(p.config ?? {}, new AbortController().signal);
      } catch (err) {
        if (err instanceof PickConfigError) throw new RequestError('invalid', err.message, [{ path: err.path, message: err.message }]);
        throw new RequestError('unavailable', (err as Error).message);
      } finally {
        picking--;
      }
    },
    'monitors.exportOpml': async () => ({
      opml: await buildOpml(engine.config.current.monitors.filter((m) => m.type === 'rss').map((m) => ({ title: m.name, xmlUrl: String(m.config.url), htmlUrl: null, category: null }))),
    }),
    'monitors.pauseAll': async (p) => {
      await engine.setPaused(p.paused);
      broadcastMonitors(engine);
      return { paused: engine.paused };
    },
  } satisfies HandlersOf<'monitors'>;
  return handlers;
}

function monitorInfo(engine: HandlerHost, m: MonitorEntry): MonitorInfo {
  return monitorInfoOf(engine, m);
}

function broadcastMonitors(engine: HandlerHost): void {
  engine.broadcast('monitors', engine.config.current.monitors.map((m) => monitorInfo(engine, m)));
}

/** Secret fields (by the type's schema) are pulled out of what the UI sent: they never reach the config document. */
function splitSecrets(engine: HandlerHost, type: string, config: Record<string, unknown>): { plain: Record<string, unknown>; secrets: Record<string, string> } {
  const names = new Set(engine.secretFieldsOf(type));
  // A sign-in's grant comes only from the engine's own sign-in (signIn.start), never from a form.
  const grantField = engine.definitions.get(type)?.oauth?.grantField;
  const plain: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === grantField) continue;
    if (names.has(k)) {
      if (typeof v === 'string' && v !== '') secrets[k] = v;
    } else plain[k] = v;
  }
  return { plain, secrets };
}

/** The first other monitor of the type that watches what `config` watches (see engine/same-source.ts). */
function sameSourceAs(engine: HandlerHost, def: MonitorDefinition, config: unknown, id: string | undefined): { id: string; name: string } | null {
  const m = sameSource(def, engine.config.current.monitors, sourceKeys(def, config), { ...(id ? { except: id } : {}), secretsOf: (x) => engine.secrets.get(x) });
  return m ? { id: m.id, name: m.name } : null;
}

/** The schema, then the type's own checks (`validate`): a config either passes both or is refused at its fields. */
async function checkConfig(def: MonitorDefinition, raw: unknown): Promise<void> {
  let config: unknown;
  try {
    config = parseMonitorConfig(def, raw);
  } catch (err) {
    if (err instanceof ConfigInvalidError) throw new RequestError('invalid', err.message, err.issues);
    throw err;
  }
  const issues = await typeChecks(def, config);
  if (issues.length) throw new RequestError('invalid', new ConfigInvalidError(issues).message, issues);
}

/** A type's checks beyond its schema (web: jq compiles the jq programs), given at most VALIDATE_TIMEOUT_MS. */
function typeChecks(def: MonitorDefinition, config: unknown): Promise<{ path: string; message: string }[]> {
  return def.validate ? def.validate(config, AbortSignal.timeout(VALIDATE_TIMEOUT_MS)) : Promise.resolve([]);
}
