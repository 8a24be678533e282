import { z } from 'zod';
import { backoffDelay } from '../base/backoff.js';
import { withTimeout } from '../base/timeout.js';
import { reconnectLoop } from '../base/reconnect.js';
import type { MonitorContext, MonitorDefinition, MonitorHealth, MonitorInstance, MonitorState, MonitorVersions } from './monitor.js';
import type { NewEvent, PanoptesEvent } from './event.js';
import { normalizeNewEvent } from './event.js';
import { newId } from './ids.js';
import type { Logger } from './log.js';
import { boundedFetch } from '../base/http.js';
import { memoryState } from './store/monitor-state-store.js';
import { formatPath } from './config/config-store.js';
import { mergeSecretValues } from './secrets.js';

export interface MonitorSpec {
  id: string;
  type: string;
  name: string;
  config: Record<string, unknown>;
  secrets: Record<string, string>;
}

export interface HostOptions {
  definitions: Map<string, MonitorDefinition>;
  stateFor(monitorId: string): MonitorState;
  /** Where an instance keeps its versions (web pages); none when not given. */
  versionsFor?(monitorId: string): MonitorVersions;
  /** Durable append; resolves once stored. */
  emit(monitorId: string, event: NewEvent, state?: Record<string, unknown>): Promise<void>;
  log: Logger;
  onHealth?(health: MonitorHealth): void;
  /** Persist secrets an instance changed (refreshed OAuth grants). */
  saveSecrets?(monitorId: string, values: Record<string, string | null>): void;
  /** Restart backoff for instances whose start() fails: base and cap. */
  restartBaseMs?: number;
  restartCapMs?: number;
  /** How long start() and stop() may take before they count as hung. */
  startTimeoutMs?: number;
  random?: () => number;
}

export class ConfigInvalidError extends Error {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid config: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'ConfigInvalidError';
  }
}

/** Validate a monitor config against its type's schema; issues carry JSON paths. */
export function parseMonitorConfig<C>(def: MonitorDefinition<C>, config: unknown): C {
  const r = (def.configSchema as z.ZodType<C>).safeParse(config ?? {});
  if (!r.success) throw new ConfigInvalidError(r.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })));
  return r.data;
}

/** Names of config fields marked `.meta({ secret: true })` in a monitor's schema. */
export function secretFields(def: MonitorDefinition): string[] {
  const json = z.toJSONSchema(def.configSchema as z.ZodType, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, { secret?: boolean }> };
  return Object.entries(json.properties ?? {})
    .filter(([, p]) => p && p.secret === true)
    .map(([k]) => k);
}

export { backoffDelay };

/** The next check after a good one: the interval ±10 %, so monitors started together drift apart. */
export function jitteredInterval(intervalMs: number, random: () => number): number {
  return Math.round(intervalMs * (0.9 + 0.2 * random()));
}

/** Pollers that start within this long of each other are a burst (the engine starting, an import). */
const BURST_MS = 5_000;
/** The first few of a burst check at once; the rest spread over a tenth of their interval, at most this long. */
const BURST_AT_ONCE = 4;
const MAX_START_SPREAD_MS = 10_000;

/** A check that a server (or the monitor) asked to put off: `retryAt` is when the next one may run (epoch ms). */
function retryAtOf(err: unknown): number | null {
  const at = (err as { retryAt?: unknown } | null)?.retryAt;
  return typeof at === 'number' && Number.isFinite(at) ? at : null;
}

interface Running {
  spec: MonitorSpec;
  def: MonitorDefinition;
  instance: MonitorInstance | null;
  controller: AbortController;
  timers: Set<NodeJS.Timeout>;
  health: MonitorHealth;
  restartTimer: NodeJS.Timeout | null;
  generation: number;
  /** The instance's polling loops, so "check now" can run them at once. */
  pollers: (() => void)[];
}

/**
 * Runs monitor instances. Each instance gets a real MonitorContext; everything it schedules goes through the
 * host, so a throw, a rejected promise or a hang in one monitor becomes that monitor's health and a retry
 * with backoff — never a crash of the process or a stall of another monitor.
 */
export class MonitorHost {
  private readonly running = new Map<string, Running>();
  /** When the pollers that asked to be spread (`every(…, { spread: true })`) registered lately. */
  private recentStarts: number[] = [];
  private readonly opts: Required<Pick<HostOptions, 'restartBaseMs' | 'restartCapMs' | 'startTimeoutMs' | 'random'>> & HostOptions;

  constructor(options: HostOptions) {
    this.opts = { restartBaseMs: 5_000, restartCapMs: 30 * 60_000, startTimeoutMs: 60_000, random: Math.random, ...options };
  }

  health(id: string): MonitorHealth {
    return this.running.get(id)?.health ?? blankHealth(id, 'stopped');
  }

  allHealth(): MonitorHealth[] {
    return [...this.running.values()].map((r) => r.health);
  }

  isRunning(id: string): boolean {
    return this.running.has(id);
  }

  async start(spec: MonitorSpec): Promise<void> {
    await this.stop(spec.id);
    const def = this.opts.definitions.get(spec.type);
    const run: Running = {
      spec,
      def: def!,
      instance: null,
      controller: new AbortController(),
      timers: new Set(),
      health: blankHealth(spec.id, 'starting'),
      restartTimer: null,
      generation: 0,
      pollers: [],
    };
    this.running.set(spec.id, run);
    if (!def) {
      this.setHealth(run, { status: 'failing', message: `unknown monitor type "${spec.type}"`, lastError: `unknown monitor type "${spec.type}"`, lastErrorAt: new Date().toISOString() });
      return;
    }
    this.launch(run);
  }

  /** Run the instance's checks now instead of at their next interval ("Check now" in the UI). */
  checkNow(id: string): boolean {
    const run = this.running.get(id);
    if (!run || !run.instance) return false;
    run.pollers.forEach((p) => p());
    return run.pollers.length > 0;
  }

  /** Mark an entry paused (not running, but known) so the UI shows it as such. */
  markPaused(spec: MonitorSpec): void {
    const run: Running = { spec, def: this.opts.definitions.get(spec.type)!, instance: null, controller: new AbortController(), timers: new Set(), health: blankHealth(spec.id, 'paused'), restartTimer: null, generation: 0, pollers: [] };
    this.running.set(spec.id, run);
    this.opts.onHealth?.(run.health);
  }

  private launch(run: Running): void {
    const gen = ++run.generation;
    run.pollers = [];
    run.controller = new AbortController();
    const log = this.opts.log.child(run.spec.id);
    let config: unknown;
    try {
      // Secrets live apart from the config document but are part of the config the schema checks.
      config = parseMonitorConfig(run.def, { ...run.spec.config, ...run.spec.secrets });
    } catch (err) {
      // A bad config does not get better by retrying: failing, no restart, until the user edits it.
      this.setHealth(run, { status: 'failing', message: (err as Error).message, lastError: (err as Error).message, lastErrorAt: new Date().toISOString(), nextRetry: null });
      return;
    }
    const ctx = this.makeContext(run, config, log, gen);
    const started = (async () => {
      run.instance = run.def.create(ctx);
      await withTimeout(Promise.resolve(run.instance.start()), this.opts.startTimeoutMs, `did not start within ${this.opts.startTimeoutMs / 1000} s`);
    })();
    started.then(
      () => {
        if (gen !== run.generation) return;
        // Polling monitors become "ok" after their first successful check, not merely because they started.
        if (run.health.status === 'starting' && run.pollers.length === 0) this.setHealth(run, { status: 'ok', message: null });
      },
      (err) => {
        if (gen !== run.generation) return;
        log.warn(`failed to start: ${errorText(err)}`);
        this.scheduleRestart(run, err);
      },
    );
  }

  private scheduleRestart(run: Running, err: unknown): void {
    const failures = run.health.consecutiveFailures + 1;
    const delay = backoffDelay(failures, this.opts.restartBaseMs, this.opts.restartCapMs, this.opts.random);
    void this.teardown(run);
    this.setHealth(run, failingHealth(err, failures, delay));
    run.restartTimer = setTimeout(() => {
      run.restartTimer = null;
      if (this.running.get(run.spec.id) === run) this.launch(run);
    }, delay);
    run.restartTimer.unref?.();
  }

  private makeContext(run: Running, config: unknown, log: Logger, gen: number): MonitorContext {
    const alive = () => gen === run.generation && !run.controller.signal.aborted;
    const host = this;
    const setTimer = (fn: () => void, ms: number): (() => void) => {
      const t = setTimeout(() => {
        run.timers.delete(t);
        if (!alive()) return;
        try {
          fn();
        } catch (err) {
          log.error(`timer callback threw: ${errorText(err)}`);
          host.scheduleRestart(run, err);
        }
      }, ms);
      run.timers.add(t);
      return () => {
        clearTimeout(t);
        run.timers.delete(t);
      };
    };
    return {
      id: run.spec.id,
      name: run.spec.name,
      config,
      secrets: Object.freeze({ ...run.spec.secrets }),
      saveSecrets: (values) => {
        // Saved even if the instance was just stopped: a refresh it finished may have spent the old refresh token.
        if (this.running.get(run.spec.id) !== run) return;
        run.spec = { ...run.spec, secrets: mergeSecretValues(run.spec.secrets, values) };
        this.opts.saveSecrets?.(run.spec.id, values);
      },
      dryRun: false,
      signal: run.controller.signal,
      log,
      state: this.opts.stateFor(run.spec.id),
      ...(this.opts.versionsFor ? { versions: this.opts.versionsFor(run.spec.id) } : {}),
      emit: async (event, options) => {
        if (!alive()) return; // a stopped or replaced instance must not add events
        await this.opts.emit(run.spec.id, event, options?.state);
      },
      fetch: (url, options) => boundedFetch(url, options, run.controller.signal),
      reconnect: (session, options) => reconnectLoop(session, { ...options, signal: options?.signal ?? run.controller.signal }),
      every: (intervalMs, task, options) => {
        const minInterval = run.def.minIntervalMs ?? 1_000;
        const interval = Math.max(minInterval, intervalMs);
        const timeoutMs = options?.timeoutMs ?? Math.min(Math.max(interval, 30_000), 120_000);
        let failures = 0;
        let inFlight = false;
        let rerun = false;
        let rerunManual = false;
        let cancelNext: (() => void) | null = null;
        // `manual`: the user asked for this check ("Check now"), so a monitor may skip its own reasons to wait.
        const tick = async (manual = false) => {
          if (!alive()) return;
          if (inFlight) {
            rerun = true; // asked again while checking: check once more right after
            rerunManual ||= manual;
            return;
          }
          inFlight = true;
          cancelNext?.();
          cancelNext = null;
          const attempt = new AbortController();
          const onStop = () => attempt.abort(new Error('stopped'));
          run.controller.signal.addEventListener('abort', onStop, { once: true });
          const healthBefore = run.health;
          try {
            const result = await withTimeout(Promise.resolve().then(() => task(attempt.signal, { manual })), timeoutMs, `no answer within ${Math.round(timeoutMs / 1000)} s`, () => attempt.abort(new Error('timed out')));
            if (!alive()) return;
            failures = 0;
            // A run that itself reported "degraded" (a service check that found its target down) finished its work:
            // keep its verdict, but it is no failure of the monitor, so no backoff (the next check comes on time).
            const saidDegraded = run.health !== healthBefore && run.health.status === 'degraded';
            // Keep what the check itself said ("not modified", "12 items"); clear a stale failure message.
            const message = run.health.status === 'ok' || saidDegraded ? run.health.message : null;
            this.setHealth(run, { status: saidDegraded ? 'degraded' : 'ok', message, lastSuccess: new Date().toISOString(), consecutiveFailures: 0, nextRetry: null });
            // A check may put the next one off further (outside its check windows: until the next one opens).
            const notBefore = typeof result === 'object' && result !== null && typeof result.notBefore === 'number' ? result.notBefore : null;
            const next = options?.spread ? jitteredInterval(interval, this.opts.random) : interval;
            cancelNext = setTimer(() => void tick(), Math.max(next, notBefore !== null ? notBefore - Date.now() : 0));
          } catch (err) {
            if (!alive()) return;
            const retryAt = retryAtOf(err);
            if (retryAt !== null && retryAt > Date.now()) {
              // The server asked us to wait (429, 503 + Retry-After): not a failure of the monitor, and no earlier retry.
              log.info(`waiting as asked: ${errorText(err)}`);
              this.setHealth(run, { status: 'degraded', message: errorText(err), nextRetry: new Date(retryAt).toISOString() });
              cancelNext = setTimer(() => void tick(), retryAt - Date.now());
              return;
            }
            failures++;
            const delay = backoffDelay(failures, Math.min(interval, 30_000), Math.max(interval, 30 * 60_000), this.opts.random);
            log.warn(`check failed (${failures} in a row): ${errorText(err)}`);
            this.setHealth(run, failingHealth(err, failures, delay));
            cancelNext = setTimer(() => void tick(), delay);
          } finally {
            inFlight = false;
            run.controller.signal.removeEventListener('abort', onStop);
            if (rerun && alive()) {
              const again = rerunManual;
              rerun = false;
              rerunManual = false;
              cancelNext?.();
              cancelNext = setTimer(() => void tick(again), 0);
            }
          }
        };
        run.pollers.push(() => void tick(true));
        cancelNext = setTimer(() => void tick(), options?.spread ? this.startSpread(interval) : 0);
      },
      health: {
        ok: (message) => {
          if (alive()) this.setHealth(run, { status: 'ok', message: message ?? null, lastSuccess: new Date().toISOString(), consecutiveFailures: 0, nextRetry: null });
        },
        degraded: (message) => {
          if (alive()) this.setHealth(run, { status: 'degraded', message });
        },
        failing: (error, retryInMs) => {
          if (!alive()) return;
          this.setHealth(run, {
            status: 'failing',
            message: errorText(error),
            lastError: errorText(error),
            lastErrorAt: new Date().toISOString(),
            consecutiveFailures: run.health.consecutiveFailures + 1,
            nextRetry: retryInMs !== undefined ? new Date(Date.now() + retryInMs).toISOString() : null,
          });
        },
      },
      setTimeout: setTimer,
    };
  }

  /**
   * How long a polite poller waits before its first check: nothing when it starts alone (a monitor the user just
   * added checks at once), a random part of a tenth of its interval when many start together, so a restart with fifty
   * pages and feeds does not send fifty requests in the same second.
   */
  private startSpread(intervalMs: number): number {
    const now = Date.now();
    this.recentStarts = this.recentStarts.filter((t) => now - t < BURST_MS);
    this.recentStarts.push(now);
    if (this.recentStarts.length <= BURST_AT_ONCE) return 0;
    return Math.round(this.opts.random() * Math.min(intervalMs / 10, MAX_START_SPREAD_MS));
  }

  private setHealth(run: Running, patch: Partial<MonitorHealth>): void {
    run.health = { ...run.health, ...patch };
    this.opts.onHealth?.(run.health);
  }

  private async teardown(run: Running): Promise<void> {
    run.generation++;
    run.controller.abort(new Error('stopped'));
    for (const t of run.timers) clearTimeout(t);
    run.timers.clear();
    const inst = run.instance;
    run.instance = null;
    if (inst) {
      try {
        await withTimeout(Promise.resolve(inst.stop()), 10_000, 'did not stop within 10 s');
      } catch (err) {
        this.opts.log.warn(`${run.spec.id}: ${errorText(err)}`);
      }
    }
  }

  async stop(id: string, finalStatus: 'stopped' | 'paused' = 'stopped'): Promise<void> {
    const run = this.running.get(id);
    if (!run) return;
    if (run.restartTimer) clearTimeout(run.restartTimer);
    this.running.delete(id);
    await this.teardown(run);
    run.health = { ...run.health, status: finalStatus, nextRetry: null };
    this.opts.onHealth?.(run.health);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.stop(id)));
  }
}

export interface DryRunOptions {
  timeoutMs?: number;
  /** Extra time after start() for long-lived monitors to deliver what they fetch on connect. */
  settleMs?: number;
  /** Where secrets the monitor changes go (a stored grant refreshed during the test); dropped when not given. */
  saveSecrets?(values: Record<string, string | null>): void;
}

/**
 * `panoptes monitor test`: the same monitor code with throw-away state, emitting what the source holds now as
 * if all of it were new. Nothing is stored. A failure (bad config, unreachable source) rejects with a one-line reason.
 */
export async function dryRunMonitor(def: MonitorDefinition, rawConfig: unknown, secrets: Record<string, string> = {}, opts: DryRunOptions = {}, log?: Logger): Promise<PanoptesEvent[]> {
  const config = parseMonitorConfig(def, rawConfig);
  const id = `${def.type}:dry-run`;
  const events: PanoptesEvent[] = [];
  const controller = new AbortController();
  const tasks: Promise<unknown>[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let failure: unknown = null;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const quiet: Logger = log ?? { debug() {}, info() {}, warn() {}, error() {}, child() { return quiet; } };
  const ctx: MonitorContext = {
    id,
    name: 'dry run',
    config,
    secrets: Object.freeze({ ...secrets }),
    saveSecrets: (values) => opts.saveSecrets?.(values),
    dryRun: true,
    signal: controller.signal,
    log: quiet,
    state: memoryState(),
    emit: async (e, options) => {
      const n = normalizeNewEvent(e);
      for (const [k, v] of Object.entries(options?.state ?? {})) ctx.state.set(k, v);
      events.push({ id: newId(), receivedAt: new Date().toISOString(), source: id, ...n });
    },
    fetch: (url, options) => boundedFetch(url, { timeoutMs: Math.min(timeoutMs, options?.timeoutMs ?? timeoutMs), ...options }, controller.signal),
    reconnect: (session, options) => reconnectLoop(session, { ...options, signal: options?.signal ?? controller.signal }),
    every: (_interval, task, options) => {
      tasks.push(withTimeout(Promise.resolve().then(() => task(controller.signal, { manual: true })), options?.timeoutMs ?? timeoutMs, `no answer within ${Math.round((options?.timeoutMs ?? timeoutMs) / 1000)} s`));
    },
    health: {
      ok() {},
      degraded() {},
      failing(error) {
        failure ??= error;
      },
    },
    setTimeout: (fn, ms) => {
      const t = setTimeout(() => {
        timers.delete(t);
        try {
          fn();
        } catch (err) {
          failure ??= err;
        }
      }, ms);
      timers.add(t);
      return () => clearTimeout(t);
    },
  };
  const instance = def.create(ctx);
  try {
    await withTimeout(Promise.resolve(instance.start()), timeoutMs, `did not start within ${Math.round(timeoutMs / 1000)} s`);
    await Promise.all(tasks);
    if (opts.settleMs) await new Promise((r) => setTimeout(r, opts.settleMs));
    if (failure) throw failure;
  } finally {
    controller.abort(new Error('dry run finished'));
    for (const t of timers) clearTimeout(t);
    await Promise.resolve(instance.stop()).catch(() => {});
  }
  return events;
}

/** Health after a failure that will be retried in `retryInMs`. */
function failingHealth(err: unknown, consecutiveFailures: number, retryInMs: number | null): Partial<MonitorHealth> {
  return {
    status: 'failing',
    message: errorText(err),
    lastError: errorText(err),
    lastErrorAt: new Date().toISOString(),
    consecutiveFailures,
    nextRetry: retryInMs === null ? null : new Date(Date.now() + retryInMs).toISOString(),
  };
}

function blankHealth(monitorId: string, status: MonitorHealth['status']): MonitorHealth {
  return { monitorId, status, message: null, lastSuccess: null, lastError: null, lastErrorAt: null, nextRetry: null, consecutiveFailures: 0 };
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return typeof err === 'string' ? err : JSON.stringify(err);
}

