/**
 * Up/down state for service checks (http, tcp, ping, dns, certificate, process, snmp…), shared so every check type
 * behaves the same: a check reports **state changes** only (down once, up once), after **retries** (N failed
 * results in a row before "down"), never sooner than a **minimum time in state** after the last change, and is
 * **held** while a check it depends on is down (the parent's own "down" then names how many checks it affects).
 *
 * Samples for charts: each result is folded into a window (default 5 minutes) and one ambient `check.sample` event
 * per window carries count, failures, min/avg/max of the value (response time, rtt, days to expiry) and uptime over
 * 24 h / 7 d / 30 d. One event per check per window instead of one per result keeps the store from bloating:
 * a check every 10 s is 288 samples a day, not 8,640. Uptime comes from hourly counts (at most 720) kept in the
 * monitor's state and saved with each sample, so it survives restarts without reading history back.
 *
 * What was announced is saved in the same transaction as the announcement (`emit(…, { state })`), so a restart
 * neither repeats a "down" nor forgets one.
 */
import { z } from 'zod';
import type { MonitorContext, MonitorInstance } from './monitor.js';
import type { NewEvent } from './event.js';
import { isDuration, parseDuration, formatDuration } from './duration.js';
import { maintenanceWindowSchema, maintenanceReason, describeReason, registerCheckMaintenance, unregisterCheckMaintenance } from './maintenance.js';

export type CheckStatus = 'up' | 'down' | 'unknown';

/** What one check found. `ok: false` with a reason is a failed check, not an error of the monitor. */
export interface CheckResult {
  ok: boolean;
  /** Why it failed, in words a user understands ("connection refused by 127.0.0.1:8080"). */
  reason?: string | null;
  /** The number charted for this check: response time or rtt (ms), days to expiry… */
  value?: number | null;
  /** Above the slow threshold: `check.slow` once when it becomes slow. */
  slow?: boolean;
  /** Details for the events' fields (status code, resolved addresses…). */
  fields?: Record<string, unknown>;
  /** Type-specific events of this run (`cert.expiring`, `dns.changed`…), emitted as they are. */
  events?: NewEvent[];
  /** Monitor state to save with this run's first event (or alone, without one), so the two cannot disagree. */
  state?: Record<string, unknown>;
}

export interface CheckRules {
  /** Failed results in a row before the check is announced down. */
  retries: number;
  /** Successful results in a row before a down check is announced up. */
  recoveries: number;
  /** No state change is announced sooner than this after the previous one; the change waits. */
  minStateMs: number;
}

/** What a check remembers between results and restarts. */
export interface CheckMemory {
  status: CheckStatus;
  /** When the announced status began (ISO), null before the first. */
  since: string | null;
  failures: number;
  successes: number;
  lastError: string | null;
  /** Down, but not announced because this check's parent (named) was down then. */
  heldBy: string | null;
  slow: boolean;
}

export interface Transition {
  from: CheckStatus;
  to: 'up' | 'down';
  /** How long the previous status lasted, ms (null from unknown). */
  lastedMs: number | null;
}

export const freshMemory = (): CheckMemory => ({ status: 'unknown', since: null, failures: 0, successes: 0, lastError: null, heldBy: null, slow: false });

/**
 * Fold one result into the memory. Returns the new memory and the state change to announce, if any. Pure: the
 * clock is passed in, so the rules can be tested without waiting.
 */
export function observe(memory: CheckMemory, result: { ok: boolean; reason?: string | null }, now: number, rules: CheckRules): { memory: CheckMemory; change: Transition | null } {
  const m: CheckMemory = { ...memory };
  if (result.ok) {
    // Capped: past the number that matters it would only make the memory change (and be saved) on every check.
    m.successes = Math.min(m.successes + 1, rules.recoveries);
    m.failures = 0;
  } else {
    m.failures++;
    m.successes = 0;
    m.lastError = result.reason ?? 'failed';
  }
  const sinceMs = m.since ? Date.parse(m.since) : null;
  const settled = m.status === 'unknown' || sinceMs === null || now - sinceMs >= rules.minStateMs;
  let to: 'up' | 'down' | null = null;
  if (result.ok && m.status !== 'up' && m.successes >= (m.status === 'unknown' ? 1 : rules.recoveries) && settled) to = 'up';
  if (!result.ok && m.status !== 'down' && m.failures >= rules.retries && settled) to = 'down';
  if (!to) return { memory: m, change: null };
  const change: Transition = { from: m.status, to, lastedMs: sinceMs === null ? null : now - sinceMs };
  m.status = to;
  m.since = new Date(now).toISOString();
  if (to === 'up') m.heldBy = null;
  return { memory: m, change };
}

// ---- samples and uptime ----------------------------------------------------------------------------------------

/** Results folded since the last `check.sample`. */
export interface SampleWindow {
  start: number;
  count: number;
  failures: number;
  values: number;
  sum: number;
  min: number | null;
  max: number | null;
}

/** Hourly counts: [hour since epoch, checks, successful]. */
export type UptimeHours = [number, number, number][];

const HOUR = 3_600_000;
const KEEP_HOURS = 30 * 24;

export const emptyWindow = (start: number): SampleWindow => ({ start, count: 0, failures: 0, values: 0, sum: 0, min: null, max: null });

export function addToWindow(w: SampleWindow, ok: boolean, value: number | null | undefined): void {
  w.count++;
  if (!ok) w.failures++;
  if (typeof value === 'number' && Number.isFinite(value)) {
    w.values++;
    w.sum += value;
    w.min = w.min === null ? value : Math.min(w.min, value);
    w.max = w.max === null ? value : Math.max(w.max, value);
  }
}

export function addToHours(hours: UptimeHours, ok: boolean, now: number): UptimeHours {
  const h = Math.floor(now / HOUR);
  const last = hours[hours.length - 1];
  if (last && last[0] === h) {
    last[1]++;
    if (ok) last[2]++;
    return hours;
  }
  hours.push([h, 1, ok ? 1 : 0]);
  const oldest = h - KEEP_HOURS;
  while (hours.length && hours[0]![0] <= oldest) hours.shift();
  return hours;
}

/** Share of successful checks over the last `hours` hours, in percent with two decimals; null without checks. */
export function uptimePercent(hours: UptimeHours, span: number, now: number): number | null {
  const from = Math.floor(now / HOUR) - span;
  let n = 0;
  let ok = 0;
  for (const [h, c, s] of hours) if (h > from) (n += c), (ok += s);
  return n ? Math.round((ok / n) * 10_000) / 100 : null;
}

// ---- dependencies ------------------------------------------------------------------------------------------------

interface Registered {
  status: CheckStatus;
  /** The last result failed (maybe not yet announced: its retries are still running). */
  failing: boolean;
  dependsOn: string | null;
  name: string;
}

/**
 * The checks running in this engine and their announced status, so a child can see that its parent is down.
 * Process-wide on purpose: checks are separate monitor instances, and this is the one thing they share.
 */
const registry = new Map<string, Registered>();

function dependentsOf(id: string): string[] {
  return [...registry.entries()].filter(([, r]) => r.dependsOn === id).map(([k]) => k);
}

// ---- maintenance windows (core/maintenance: a check's own, the settings' scheduled ones, the flag) -------------------

export { maintenanceWindowSchema, inMaintenance, type MaintenanceWindow } from './maintenance.js';

// ---- the config every check shares -------------------------------------------------------------------------------

const duration = (def: string, label: string, help: string) =>
  z.string().default(def).refine(isDuration, { message: 'write a duration like "30s", "5m" or "1h"' }).meta({ label, help });

/**
 * A check's own maintenance windows and its tags (which scheduled windows also go by): part of every check's
 * options, and of the heartbeat's, which is no polled check but holds its misses the same way.
 */
export function checkMaintenanceShape(held: string) {
  return {
    maintenance: z.array(maintenanceWindowSchema).default([]).meta({ label: 'Maintenance windows', help: `While one is open, ${held}: e.g. { "days": ["sun"], "start": "02:00", "end": "04:00" } or { "from": "2026-12-24T08:00:00Z", "until": "2026-12-24T12:00:00Z" }. Windows for many checks at once (by tag, or all) are under Checks → Maintenance.` }),
    tags: z.array(z.string().trim().min(1).max(100)).max(20).default([]).meta({ label: 'Tags', help: 'Added to this check\'s events (e.g. "nas", "home-lab"): rules can pick them, and a maintenance window for a tag covers every check carrying it.' }),
  };
}

/** Fields every check type has; spread into its own `z.object({...})`. */
export function checkOptionsShape(defaults: { interval: string; timeout: string }) {
  return {
    interval: duration(defaults.interval, 'Check every', 'How often to check.'),
    timeout: duration(defaults.timeout, 'Timeout', 'A check taking longer than this has failed.'),
    retries: z.number().int().min(1).max(100).default(3).meta({ label: 'Failures before down', help: 'How many failed checks in a row before the check is reported down (1 = at once). Keeps a blip from notifying.' }),
    recoveries: z.number().int().min(1).max(100).default(1).meta({ label: 'Successes before up', help: 'How many successful checks in a row before a down check is reported up again.' }),
    minTimeInState: duration('0s', 'Minimum time in state', 'A flapping service is reported at most once per this time: a change sooner than this after the last one waits (e.g. "5m").'),
    dependsOn: z.string().trim().min(1).optional().meta({ label: 'Depends on', help: 'Id of another check (e.g. "ping:router"). While that one is down, this one\'s "down" is held and counted in the parent\'s.' }),
    ...checkMaintenanceShape('downs are held'),
    sampleEvery: duration('5m', 'Chart sample every', 'Results are summed up into one check.sample (count, failures, min/avg/max) per this time, for the charts and uptime.'),
  };
}

const optionsSchema = z.object(checkOptionsShape({ interval: '1m', timeout: '10s' }));
export type CheckOptions = z.infer<typeof optionsSchema>;

/** The events every check type emits; a type lists these in its `events` next to its own. */
export function checkEventDocs(valueLabel: string) {
  const common = { check: 'The check type (http, tcp, ping…)', target: 'What is checked (URL, host:port…)', name: 'The check\'s name' };
  return [
    { type: 'check.down', description: 'The check failed the configured number of times in a row (announced once, not on every failure).', fields: { ...common, reason: 'Why the last check failed', failures: 'Failed checks in a row', upForMs: 'How long it had been up, ms (null if it was never up)', affected: 'Ids of the checks that depend on this one (their downs are held meanwhile)', affectedCount: 'How many' } },
    { type: 'check.up', description: 'A down check succeeds again (announced once). The first success after adding a check is recorded quietly.', fields: { ...common, downForMs: 'How long it was down, ms', value: valueLabel } },
    { type: 'check.slow', description: 'The value went over the slow threshold (once, until it is below again).', fields: { ...common, value: valueLabel, threshold: 'The threshold' } },
    { type: 'check.sample', ambient: true, description: 'Ambient: a summary of the results of one sample period, for charts and uptime; not meant to notify.', fields: { ...common, status: 'up, down or unknown', count: 'Checks in the period', failures: 'Failed ones', avg: `Average ${valueLabel}`, min: 'Smallest', max: 'Largest', last: 'The last result\'s value', lastError: 'The last failure reason, or null', uptime24h: 'Percent of successful checks over 24 hours', uptime7d: 'Over 7 days', uptime30d: 'Over 30 days' } },
  ];
}

export interface RunCheckOptions {
  /** The check type, e.g. "http". */
  kind: string;
  /** What is checked, as shown to the user. */
  target: string;
  /** One check. It must apply the timeout itself and report failures as `{ ok: false, reason }`. */
  probe(signal: AbortSignal): Promise<CheckResult>;
  /** How the value reads in titles: (v) => `${v} ms`. */
  formatValue?(value: number): string;
  /** The clock (tests). */
  now?: () => number;
}

/**
 * Wire a check into its monitor: runs `probe` every `interval` through `ctx.every`, folds the results into state
 * changes, samples and health, and keeps the dependency registry current. Call from `start()`; returns `stop`.
 */
export function runCheck(ctx: MonitorContext<CheckOptions>, opts: RunCheckOptions): () => void {
  const cfg = ctx.config;
  const rules: CheckRules = { retries: cfg.retries, recoveries: cfg.recoveries, minStateMs: parseDuration(cfg.minTimeInState) };
  const intervalMs = parseDuration(cfg.interval);
  const timeoutMs = parseDuration(cfg.timeout);
  const sampleMs = Math.max(parseDuration(cfg.sampleEvery), 1_000);
  const now = opts.now ?? Date.now;
  const fmt = opts.formatValue ?? ((v: number) => String(v));
  const parent = cfg.dependsOn ?? null;
  const base = { check: opts.kind, target: opts.target, name: ctx.name };
  const tags = ['check', opts.kind, ...(cfg.tags ?? []).filter((t) => t !== 'check' && t !== opts.kind)];

  let memory: CheckMemory = ctx.dryRun ? freshMemory() : { ...freshMemory(), ...(ctx.state.get<CheckMemory>('check') ?? {}) };
  let hours: UptimeHours = ctx.dryRun ? [] : (ctx.state.get<UptimeHours>('uptimeHours') ?? []);
  // The first result is a sample of its own, so a new check has a point on the board at once; then one per period.
  let window = emptyWindow(now() - sampleMs);
  if (!ctx.dryRun) {
    registry.set(ctx.id, { status: memory.status, failing: memory.failures > 0, dependsOn: parent, name: ctx.name });
    registerCheckMaintenance(ctx.id, cfg.maintenance ?? [], tags);
  }

  // A parent that is failing but not yet announced down counts too: children checked between its first failure and
  // its announcement would otherwise speak first.
  const parentDown = () => {
    const p = parent ? registry.get(parent) : undefined;
    return !!p && (p.status === 'down' || p.failing);
  };
  /** Why a down may not be announced now: the parent's id, "maintenance" (its own, a scheduled window, the flag), or null. */
  const holder = (at: number): string | null => (parentDown() ? parent : maintenanceNow(at) ? 'maintenance' : null);
  const maintenanceNow = (at: number) => (ctx.dryRun ? null : maintenanceReason(ctx.id, tags, at));
  const saveMemory = (m: CheckMemory) => {
    memory = m;
    const r = registry.get(ctx.id);
    if (r) {
      r.status = m.status;
      r.failing = m.failures > 0;
    }
  };

  const once = async (signal: AbortSignal) => {
    let result: CheckResult;
    const startedAt = now();
    try {
      result = await opts.probe(signal);
    } catch (err) {
      if (signal.aborted) throw err;
      result = { ok: false, reason: err instanceof Error ? err.message : String(err) };
    }
    const at = now();
    const valueText = typeof result.value === 'number' ? fmt(result.value) : null;
    let pendingState = ctx.dryRun ? undefined : result.state;
    for (const e of result.events ?? []) {
      await ctx.emit({ ...e, tags: [...(e.tags ?? []), ...tags] }, pendingState ? { state: pendingState } : undefined);
      pendingState = undefined;
    }
    for (const [k, v] of Object.entries(pendingState ?? {})) ctx.state.set(k, v);

    if (ctx.dryRun) {
      // "Test now": what this one check says, as if it were the first — no retries, no history.
      await ctx.emit(stateEvent(result.ok ? 'up' : 'down', result, valueText, null, [], result.ok ? 0 : 1));
      await ctx.emit(sampleEvent({ ...emptyWindow(startedAt), count: 1, failures: result.ok ? 0 : 1, values: valueText ? 1 : 0, sum: result.value ?? 0, min: result.value ?? null, max: result.value ?? null }, result, [], at));
      return;
    }

    const before = memory;
    const { memory: next, change } = observe(memory, result, at, rules);
    let announce: NewEvent | null = null;
    if (change?.to === 'down') {
      const heldBy = holder(at);
      if (heldBy) {
        next.heldBy = heldBy;
      } else {
        const affected = dependentsOf(ctx.id);
        announce = stateEvent('down', result, valueText, change.from === 'up' ? change.lastedMs : null, affected, next.failures);
      }
    } else if (change?.to === 'up') {
      // Up after an announced down is news; the first success, or the end of a held down, is not.
      if (change.from === 'down' && !before.heldBy) announce = stateEvent('up', result, valueText, change.lastedMs, [], 0);
    } else if (next.status === 'down' && next.heldBy && !holder(at)) {
      // The parent is back but this one is still down: now it is its own problem, say so.
      next.heldBy = null;
      announce = stateEvent('down', result, valueText, null, [], next.failures);
    }
    if (result.slow !== undefined && !result.slow !== !next.slow) {
      next.slow = !!result.slow;
      if (next.slow && result.ok) await ctx.emit({ type: 'check.slow', title: `${ctx.name} is slow: ${valueText ?? '?'}`, body: opts.target, fields: { ...base, value: result.value ?? null, ...result.fields }, tags });
    }
    saveMemory(next);
    addToWindow(window, result.ok, result.value);
    hours = addToHours(hours, result.ok, at);

    if (announce) await ctx.emit(announce, { state: { check: memory } });
    if (at - window.start >= sampleMs) {
      const w = window;
      window = emptyWindow(at);
      await ctx.emit(sampleEvent(w, result, hours, at), { state: { check: memory, uptimeHours: hours } });
    } else if (!announce && changed(before, memory)) {
      ctx.state.set('check', memory);
    }

    if (memory.status === 'down') {
      const reason = memory.heldBy === 'maintenance' ? maintenanceNow(at) : null;
      const why = memory.heldBy === 'maintenance' ? `held: ${reason ? describeReason(reason) : 'in a maintenance window'}` : `held: ${memory.heldBy} is down`;
      ctx.health.degraded(memory.heldBy ? `down (${why}): ${memory.lastError}` : `down: ${memory.lastError}`);
    } else if (!result.ok) {
      ctx.health.degraded(`failed ${memory.failures} of ${rules.retries} before down: ${result.reason ?? 'failed'}`);
    } else {
      ctx.health.ok(`${memory.status}${valueText ? `, ${valueText}` : ''}`);
    }
  };

  function stateEvent(to: 'up' | 'down', result: CheckResult, valueText: string | null, lastedMs: number | null, affected: string[], failures: number): NewEvent {
    const fields = { ...base, ...result.fields, value: result.value ?? null };
    if (to === 'down') {
      const names = affected.map((id) => registry.get(id)?.name ?? id);
      return {
        type: 'check.down',
        title: `${ctx.name} down${affected.length ? `, ${affected.length} check${affected.length === 1 ? '' : 's'} affected` : ''}: ${result.reason ?? 'failed'}`,
        body: [opts.target, affected.length ? `Also affected: ${names.join(', ')}` : ''].filter(Boolean).join('\n'),
        fields: { ...fields, reason: result.reason ?? 'failed', failures, upForMs: lastedMs, affected, affectedCount: affected.length },
        tags,
      };
    }
    return {
      type: 'check.up',
      title: `${ctx.name} up${lastedMs !== null ? ` again after ${humanDuration(lastedMs)}` : ''}${valueText ? ` (${valueText})` : ''}`,
      body: opts.target,
      fields: { ...fields, downForMs: lastedMs },
      tags,
    };
  }

  function sampleEvent(w: SampleWindow, last: CheckResult, h: UptimeHours, at: number): NewEvent {
    const avg = w.values ? Math.round((w.sum / w.values) * 100) / 100 : null;
    return {
      type: 'check.sample',
      ts: new Date(at),
      title: `${ctx.name}: ${ctx.dryRun ? (last.ok ? 'up' : 'down') : memory.status}${avg !== null ? `, ${fmt(avg)}` : ''}${w.failures ? `, ${w.failures} of ${w.count} failed` : ''}`,
      body: opts.target,
      fields: {
        ...base,
        status: ctx.dryRun ? (last.ok ? 'up' : 'down') : memory.status,
        count: w.count,
        failures: w.failures,
        avg,
        min: w.min,
        max: w.max,
        last: last.value ?? null,
        lastError: last.ok ? null : (last.reason ?? 'failed'),
        uptime24h: uptimePercent(h, 24, at),
        uptime7d: uptimePercent(h, 24 * 7, at),
        uptime30d: uptimePercent(h, 24 * 30, at),
      },
      tags: [...tags, 'ambient'],
    };
  }

  ctx.every(intervalMs, once, { timeoutMs: timeoutMs + 5_000 });
  return () => {
    if (!ctx.dryRun && registry.get(ctx.id)) {
      registry.delete(ctx.id);
      unregisterCheckMaintenance(ctx.id);
    }
  };
}

function changed(a: CheckMemory, b: CheckMemory): boolean {
  return a.status !== b.status || a.failures !== b.failures || a.successes !== b.successes || a.heldBy !== b.heldBy || a.slow !== b.slow || a.lastError !== b.lastError;
}

/** A monitor whose whole job is one check: `runCheck` on start, its stop on stop (the instance each such type would write alike). */
export function checkInstance(ctx: MonitorContext<CheckOptions>, opts: RunCheckOptions): MonitorInstance {
  let stop = () => {};
  return {
    start() {
      stop = runCheck(ctx, opts);
    },
    stop: () => stop(),
  };
}

/** "3m", "2h 5m", "40s" — how long something lasted, for titles. */
export function humanDuration(ms: number): string {
  if (ms < 60_000) return `${Math.max(1, Math.round(ms / 1000))}s`;
  const m = Math.round(ms / 60_000);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? ` ${m % 60}m` : ''}`;
  return formatDuration(Math.round(ms / 86_400_000) * 86_400_000);
}
