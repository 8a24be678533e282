import { createContext, useCallback, useContext, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { ReactNode } from 'react';
import type { Method, ParamsOf, Pushes, ResultOf, Topic } from '../../core/protocol.js';
import type { ConnectionStatus, PanoptesClient } from './transport/client.js';

const ClientContext = createContext<PanoptesClient | null>(null);

export function ClientProvider({ client, children }: { client: PanoptesClient; children: ReactNode }) {
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>;
}

export function useClient(): PanoptesClient {
  const c = useContext(ClientContext);
  if (!c) throw new Error('useClient outside ClientProvider');
  return c;
}

/** The connection status and its generation (bumped on every reconnect, so data re-fetches). */
export function useConnection(): { status: ConnectionStatus; generation: number } {
  const client = useClient();
  const status = useSyncExternalStore(
    (cb) => client.onStatus(cb),
    () => client.status,
  );
  return { status, generation: client.generation };
}

/** Subscribe to one push topic for the component's lifetime; the latest `fn` is always the one called. */
export function usePush<T extends Topic>(topic: T, fn: (data: Pushes[T]) => void): void {
  const client = useClient();
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => client.on(topic, (d) => ref.current(d)), [client, topic]);
}

export interface Query<T> {
  data: T | undefined;
  error: Error | null;
  loading: boolean;
  reload(): void;
  /** Replace the data locally (after a push or a mutation), without a round trip. */
  set(update: T | ((prev: T | undefined) => T)): void;
}

/** Run a request when connected and again after every reconnect or when `key` changes. */
export function useQuery<M extends Method>(method: M, params: ParamsOf<M>, key = ''): Query<ResultOf<M>> {
  const client = useClient();
  const { status, generation } = useConnection();
  const [data, setData] = useState<ResultOf<M> | undefined>(undefined);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const paramsRef = useRef(params);
  paramsRef.current = params;

  useEffect(() => {
    if (status !== 'open') return;
    let live = true;
    setLoading(true);
    client.request(method, paramsRef.current).then(
      (r) => {
        if (!live) return;
        setData(r);
        setError(null);
        setLoading(false);
      },
      (e: Error) => {
        if (!live) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [client, method, status, generation, key, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const set = useCallback((u: ResultOf<M> | ((p: ResultOf<M> | undefined) => ResultOf<M>)) => {
    setData((prev) => (typeof u === 'function' ? (u as (p: ResultOf<M> | undefined) => ResultOf<M>)(prev) : u));
  }, []);
  return { data, error, loading, reload, set };
}

/**
 * This machine's monitors as every view lists them, kept current by the engine's pushes: a monitor added, renamed or
 * removed anywhere (another window, the CLI, a hand edit of config.json) shows at once wherever monitors are named.
 * `health`: also follow each check's health (the views that show it), which pushes far more often.
 */
export function useMonitors(options: { health?: boolean } = {}): Query<ResultOf<'monitors.list'>> {
  const monitors = useQuery('monitors.list', {});
  usePush('monitors', (list) => monitors.set(list));
  const followHealth = options.health ?? false;
  usePush('health', (h) => {
    if (followHealth) monitors.set((prev) => (prev ?? []).map((m) => (m.id === h.monitorId ? { ...m, health: h } : m)));
  });
  return monitors;
}
