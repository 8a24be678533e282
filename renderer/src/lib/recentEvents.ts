import { useEffect, useState } from 'react';
import type { PanoptesEvent } from '../../../core/event.js';
import { useClient, useConnection, usePush } from '../state.js';

/** Events of the last `ms` (of one type, or all), newest first, kept up to date by pushes. */
export function useRecentEvents(ms: number, type: string | undefined, max: number): { events: PanoptesEvent[] | null; error: string | null } {
  const client = useClient();
  const { status, generation } = useConnection();
  const [events, setEvents] = useState<PanoptesEvent[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (status !== 'open') return;
    let live = true;
    const since = new Date(Date.now() - ms).toISOString();
    (async () => {
      const all: PanoptesEvent[] = [];
      let before: string | undefined;
      do {
        const page = await client.request('events.list', { since, limit: 1000, ...(type ? { type } : {}), ...(before ? { before } : {}) });
        all.push(...page.events);
        before = page.next ?? undefined;
      } while (before && all.length < max && live);
      if (live) setEvents(all);
    })().catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [client, status, generation, ms, type, max]);
  usePush('event', (e) => {
    if (!type || e.type === type) setEvents((prev) => (prev ? [e, ...prev] : prev));
  });
  return { events, error };
}

