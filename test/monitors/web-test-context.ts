// A MonitorContext for the web/weather/log/system/schedule/webhook monitor tests that follow a monitor over
// several checks. It keeps the host's contract (ctx.every with a per-run timeout, the host's own bounded fetch,
// persisted state) but lets a test run the polling task by hand with `tick()` instead of waiting for the host's
// timers and backoff, so no test depends on wall-clock timing. Dry runs go through the real `dryRunMonitor`.
import { reconnectLoop } from '../../base/reconnect.js';
import { boundedFetch } from '../../base/http.js';
import { MonitorHost } from '../../core/monitor-host.js';
import { memoryState } from '../../core/store/monitor-state-store.js';
import type { MonitorHealth, MonitorState, MonitorContext, MonitorDefinition, MonitorInstance } from '../../core/monitor.js';
import type { NewEvent } from '../../core/event.js';
import { silentLogger } from '../../core/log.js';

export interface TestContext<C> {
  ctx: MonitorContext<C>;
  instance: MonitorInstance;
  events: NewEvent[];
  /** Errors the polling task threw (what the host would turn into health). */
  errors: string[];
  healthLog: string[];
  state: Map<string, unknown>;
  /** Run every registered polling task once; resolves after it finished (errors are recorded, not thrown). */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestContextOptions {
  dryRun?: boolean;
  secrets?: Record<string, string>;
  state?: Map<string, unknown>;
  /** Replace emit (e.g. to count without keeping events). */
  onEmit?: (event: NewEvent) => void | Promise<void>;
  extra?: Record<string, unknown>;
}

export function createTestContext<C>(def: MonitorDefinition<C>, rawConfig: unknown, opts: TestContextOptions = {}): TestContext<C> {
  const config = def.configSchema.parse(rawConfig);
  const events: NewEvent[] = [];
  const errors: string[] = [];
  const healthLog: string[] = [];
  const state = opts.state ?? new Map<string, unknown>();
  const controller = new AbortController();
  const tasks: Array<{ task: (signal: AbortSignal, run: { manual: boolean }) => Promise<unknown>; timeoutMs: number }> = [];
  const timers = new Set<NodeJS.Timeout>();

  const runTask = async (t: (typeof tasks)[number]) => {
    const runSignal = AbortSignal.any([controller.signal, AbortSignal.timeout(t.timeoutMs)]);
    try {
      await Promise.race([
        t.task(runSignal, { manual: false }),
        new Promise((_, reject) => runSignal.addEventListener('abort', () => reject(new Error(`timed out after ${t.timeoutMs} ms`)), { once: true })),
      ]);
      healthLog.push('ok');
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
      healthLog.push('failing');
    }
  };

  const ctx: MonitorContext<C> = {
    id: `${def.type}:test`,
    name: 'test',
    config,
    secrets: opts.secrets ?? {},
    dryRun: opts.dryRun ?? false,
    signal: controller.signal,
    log: silentLogger,
    state: {
      get: <T>(k: string) => state.get(k) as T | undefined,
      set: (k, v) => void state.set(k, JSON.parse(JSON.stringify(v))),
      delete: (k) => void state.delete(k),
    },
    async emit(event, options) {
      if (opts.onEmit) await opts.onEmit(event);
      else events.push(event);
      // As the store does: state passed with an event is saved together with it.
      for (const [k, v] of Object.entries(options?.state ?? {})) state.set(k, JSON.parse(JSON.stringify(v)));
    },
    fetch: (url, options) => boundedFetch(url, options, controller.signal),
    reconnect: (session, options) => reconnectLoop(session, { ...options, signal: options?.signal ?? controller.signal }),
    every(_intervalMs, task, options) {
      tasks.push({ task, timeoutMs: options?.timeoutMs ?? 30_000 });
    },
    health: {
      ok: (m) => void healthLog.push(`ok${m ? ': ' + m : ''}`),
      degraded: (m) => void healthLog.push(`degraded: ${m}`),
      failing: (e) => void healthLog.push(`failing: ${e instanceof Error ? e.message : String(e)}`),
    },
    setTimeout(fn, ms) {
      const t = setTimeout(() => {
        timers.delete(t);
        try {
          fn();
        } catch (err) {
          errors.push(String(err));
        }
      }, ms);
      timers.add(t);
      return () => {
        clearTimeout(t);
        timers.delete(t);
      };
    },
    ...(opts.extra ?? {}),
  };
  const instance = def.create(ctx);
  return {
    ctx,
    instance,
    events,
    errors,
    healthLog,
    state,
    async tick() {
      for (const t of tasks) await runTask(t);
    },
    async stop() {
      controller.abort();
      for (const t of timers) clearTimeout(t);
      await instance.stop();
    },
  };
}

/** Start a monitor in a test context and, like the host's dry run, run its polling task once. */
export async function startAndTick<C>(def: MonitorDefinition<C>, config: unknown, opts?: TestContextOptions): Promise<TestContext<C>> {
  const t = createTestContext(def, config, opts);
  await t.instance.start();
  await t.tick();
  return t;
}

/** Run one monitor under the real MonitorHost, collecting what it emits and its health. */
export async function startWithHost<C>(def: MonitorDefinition<C>, config: unknown, opts: { state?: MonitorState; onEmit?: (e: NewEvent) => void; secrets?: Record<string, string> } = {}) {
  const events: NewEvent[] = [];
  const health: MonitorHealth[] = [];
  const state = opts.state ?? memoryState();
  const host = new MonitorHost({
    definitions: new Map([[def.type, def as MonitorDefinition]]),
    stateFor: () => state,
    emit: async (_id, e, st) => {
      if (opts.onEmit) opts.onEmit(e);
      else events.push(e);
      // As the store does: state passed with an event is saved together with it.
      for (const [k, v] of Object.entries(st ?? {})) state.set(k, v);
    },
    log: silentLogger,
    onHealth: (h) => void health.push({ ...h }),
  });
  await host.start({ id: `${def.type}:test`, type: def.type, name: 'test', config: config as Record<string, unknown>, secrets: opts.secrets ?? {} });
  return { host, events, health, state, stop: () => host.stopAll() };
}

/** Wait until `cond` holds (checked every 20 ms); fails with `what` after `timeoutMs`. Not a speed assertion. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
