import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import type { PanoptesEvent } from '../../core/event.js';
import { useClient, useConnection, usePush } from './state.js';

const PAGE = 200;
/** Bounded memory whatever the history size: the feed keeps at most this many events loaded. */
const MAX_LOADED = 100_000;

interface LiveFeed {
  events: PanoptesEvent[];
  loading: boolean;
  hasMore: boolean;
  error: Error | null;
  loadMore(): void;
  /** Bumped whenever events are added at the top, with how many, so the list can keep its scroll position. */
  prepended: { count: number; seq: number };
}

const Ctx = createContext<LiveFeed | null>(null);
export function useLiveFeed(): LiveFeed {
  const v = useContext(Ctx);
  if (!v) throw new Error('useLiveFeed outside LiveFeedProvider');
  return v;
}

/**
 * The live feed lives above the views, so it keeps collecting pushed events while the user is elsewhere.
 * On every (re)connection the newest page is fetched again, so nothing missed while offline is lost.
 */
export function LiveFeedProvider({ children }: { children: ReactNode }) {
  const client = useClient();
  const { status, generation } = useConnection();
  const [events, setEvents] = useState<PanoptesEvent[]>([]);
  const [loading, setLoading] = useState(true);
  const [hasMore, setHasMore] = useState(true);
  const [error, setError] = useState<Error | null>(null);
  const [prepended, setPrepended] = useState({ count: 0, seq: 0 });
  const loadingMore = useRef(false);
  const ids = useRef(new Set<string>());

  useEffect(() => {
    if (status !== 'open') return;
    let live = true;
    setLoading(true);
    client.request('events.list', { limit: PAGE }).then(
      (page) => {
        if (!live) return;
        ids.current = new Set(page.events.map((e) => e.id));
        setEvents(page.events);
        setHasMore(page.next !== null);
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
  }, [client, status, generation]);

  usePush('event', (ev) => {
    if (ids.current.has(ev.id)) return;
    ids.current.add(ev.id);
    setEvents((prev) => {
      const next = [ev, ...prev];
      // Pushes normally arrive in order; if one is late, keep the list newest-first anyway.
      if (prev[0] && prev[0].id > ev.id) next.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
      if (next.length > MAX_LOADED) {
        for (const dropped of next.splice(MAX_LOADED)) ids.current.delete(dropped.id);
        setHasMore(true);
      }
      return next;
    });
    setPrepended((p) => ({ count: 1, seq: p.seq + 1 }));
  });

  const loadMore = useCallback(() => {
    if (loadingMore.current || !hasMore || status !== 'open') return;
    const last = events[events.length - 1];
    if (!last || events.length >= MAX_LOADED) return;
    loadingMore.current = true;
    client
      .request('events.list', { limit: PAGE, before: last.id })
      .then(
        (page) => {
          const fresh = page.events.filter((e) => !ids.current.has(e.id));
          for (const e of fresh) ids.current.add(e.id);
          setEvents((prev) => [...prev, ...fresh]);
          setHasMore(page.next !== null);
        },
        (e: Error) => setError(e),
      )
      .finally(() => {
        loadingMore.current = false;
      });
  }, [client, events, hasMore, status]);

  return <Ctx.Provider value={{ events, loading, hasMore, error, loadMore, prepended }}>{children}</Ctx.Provider>;
}
