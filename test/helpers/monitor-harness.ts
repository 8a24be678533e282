// Runs one monitor instance the way the engine does — the real MonitorHost, events and state written by the
// engine's own EventWriter into the real SQLite store in a temp data folder (a cursor passed with an event lands
// in the same transaction) — and records what it emits and every health change. `restart()` stops the host,
// closes the store, and starts over on the same folder: what a user restarting Panoptes does. `crashAfterEvents`
// kills that "process" right after a commit, before the monitor hears back, to prove nothing repeats.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MonitorDefinition, MonitorHealth } from '../../core/monitor.js';
import type { NewEvent, PanoptesEvent } from '../../core/event.js';
import { MonitorHost } from '../../core/monitor-host.js';
import { openStore, type Store } from '../../core/store/index.js';
import { EventWriter } from '../../engine/event-writer.js';
import { mergeSecretValues } from '../../core/secrets.js';
import { createLogger, silentLogger, type Logger } from '../../core/log.js';

export interface MonitorRun {
  readonly id: string;
  /** Everything emitted, across restarts, in order. */
  readonly events: NewEvent[];
  readonly healthLog: MonitorHealth[];
  /** Log lines the monitor wrote (to check that secrets never appear). */
  readonly logLines: string[];
  /** The instance's secrets as the secret store holds them now (a refreshed OAuth grant lands here). */
  secrets(): Record<string, string>;
  health(): MonitorHealth;
  waitForEvents(count: number, timeoutMs?: number): Promise<NewEvent[]>;
  waitForHealth(pred: (h: MonitorHealth) => boolean, timeoutMs?: number, what?: string): Promise<MonitorHealth>;
  /** What is durably in the store from this monitor, oldest first (the user's history), across restarts. */
  stored(): PanoptesEvent[];
  /** Resolves when the simulated crash (`crashAfterEvents`) has happened. */
  readonly crashed: Promise<void>;
  /** Stop Panoptes (host + store) and start it again on the same data folder. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface RunOptions {
  secrets?: Record<string, string>;
  id?: string;
  /** Called for every emitted event, with the time it arrived. */
  onEvent?(event: NewEvent, at: number): void;
  /**
   * Simulate Panoptes being killed right after the N-th event (counted across restarts) is committed: the store
   * closes before the monitor learns its emit succeeded, so nothing it would do next (such as saving a cursor on
   * its own) reaches the disk; the emit fails and so does every later one, until `restart()`.
   */
  crashAfterEvents?: number;
}

export async function runMonitor(def: MonitorDefinition, config: Record<string, unknown>, opts: RunOptions = {}): Promise<MonitorRun> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-monitor-'));
  const id = opts.id ?? `${def.type}:test`;
  const events: NewEvent[] = [];
  const healthLog: MonitorHealth[] = [];
  const logLines: string[] = [];
  const log: Logger = process.env.PANOPTES_TEST_LOG
    ? createLogger('test', 'debug', (l) => (logLines.push(l), process.stderr.write(l + '\n')))
    : createLogger('test', 'debug', (l) => void logLines.push(l));
  let store: Store;
  let writer: EventWriter;
  let host: MonitorHost;
  let committed = 0;
  let secrets: Record<string, string> = { ...(opts.secrets ?? {}) };
  let dead = false;
  let onCrash!: () => void;
  const crashed = new Promise<void>((r) => (onCrash = r));
  let current: MonitorHealth | null = null;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
  };

  const boot = async () => {
    store = openStore(dataDir);
    dead = false;
    const boundStore = store;
    const boundWriter = (writer = new EventWriter(store, log, () => {}));
    host = new MonitorHost({
      definitions: new Map([[def.type, def]]),
      stateFor: (mid) => boundStore.monitorState.forMonitor(mid),
      emit: async (mid, event, state) => {
        if (dead) throw new Error('Panoptes is down (simulated crash)');
        await boundWriter.emit(mid, event, state);
        if (opts.crashAfterEvents !== undefined && ++committed === opts.crashAfterEvents) {
          // Committed, and now the process "dies": the store is gone before the monitor continues, so whatever
          // it does next cannot reach the disk (its emit fails as if the process had ended).
          dead = true;
          boundStore.close();
          events.push(event);
          onCrash();
          wake();
          throw new Error('Panoptes is down (simulated crash)');
        }
        events.push(event);
        opts.onEvent?.(event, Date.now());
        wake();
      },
      log,
      onHealth: (h) => {
        current = { ...h };
        healthLog.push(current);
        wake();
      },
      // Like the engine's secret store: what the instance saves is what the next start (a restart) gets.
      saveSecrets: (_mid, values) => (secrets = mergeSecretValues(secrets, values)),
      restartBaseMs: 500,
    });
    await host.start({ id, type: def.type, name: 'test', config, secrets });
  };

  const waitUntil = <T>(check: () => T | undefined, timeoutMs: number, what: () => string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const attempt = () => {
        const v = check();
        if (v !== undefined) {
          clearTimeout(t);
          waiters.delete(attempt);
          resolve(v);
        }
      };
      const t = setTimeout(() => {
        waiters.delete(attempt);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`));
      }, timeoutMs);
      waiters.add(attempt);
      attempt();
    });

  await boot();
  return {
    id,
    events,
    healthLog,
    logLines,
    secrets: () => ({ ...secrets }),
    health: () => current ?? host.health(id),
    waitForEvents: (count, timeoutMs = 10_000) =>
      waitUntil(() => (events.length >= count ? events.slice() : undefined), timeoutMs, () => `${count} events (have ${events.length}: ${events.map((e) => e.title).join(' | ')})`),
    waitForHealth: (pred, timeoutMs = 10_000, what = 'a health state') =>
      waitUntil(() => (current && pred(current) ? current : undefined), timeoutMs, () => `${what} (now ${JSON.stringify(current)})`),
    stored: () => (store.db.open ? store.events.list({ source: id, order: 'asc', limit: 1000 }).events : []),
    crashed,
    async restart() {
      await host.stopAll();
      if (store.db.open) writer.flush();
      store.close();
      await boot();
    },
    async stop() {
      await host.stopAll();
      if (store.db.open) writer.flush();
      store.close();
      waiters.clear();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export { silentLogger };
