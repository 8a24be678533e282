import { KindBadge } from '../components/KindBadge.js';
import { useEffect, useRef, useState } from 'react';
import type { PanoptesEvent } from '../../../core/event.js';
import type { EventPage, EventQuery } from '../../../core/protocol.js';
import { EventDetail } from '../components/EventDetail.js';
import { useToasts } from '../components/Toasts.js';
import { dateTime, highlightParts } from '../lib/format.js';
import { download, eventsToCsv } from '../lib/exportFile.js';
import { useShortcuts } from '../lib/keys.js';
import { toPlainText } from '../lib/sanitize.js';
import { useClient, useConnection, useMonitors } from '../state.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { NoMatch } from '../components/NoMatch.js';
import { parseVersionsLink, versionsLink, VersionsPanel } from '../components/VersionsPanel.js';

const PAGE = 100;
const EXPORT_MAX = 10_000;

function Highlight({ text, query }: { text: string; query: string }) {
  return (
    <>
      {highlightParts(text, query).map((p, i) => (p.hit ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}
    </>
  );
}

/** The source's own time, shown under the received time when the two differ by more than a minute (a backfill). */
function publishedApart(e: PanoptesEvent): boolean {
  return Math.abs(Date.parse(e.receivedAt) - Date.parse(e.ts)) > 60_000;
}

const NO_SEARCH = { search: '', source: '', type: '', tag: '', since: '', until: '', order: 'desc' as 'desc' | 'asc' };
const TYPING_PAUSE_MS = 300;

function queryOf(fields: typeof NO_SEARCH): EventQuery {
  const q: EventQuery = { limit: PAGE, order: fields.order };
  if (fields.search.trim()) q.search = fields.search.trim();
  if (fields.source) q.source = fields.source;
  if (fields.type.trim()) q.type = fields.type.trim();
  if (fields.tag.trim()) q.tag = fields.tag.trim();
  if (fields.since) q.since = new Date(fields.since).toISOString();
  if (fields.until) q.until = new Date(fields.until + 'T23:59:59.999').toISOString();
  return q;
}

export function HistoryView() {
  const client = useClient();
  const toasts = useToasts();
  const { status } = useConnection();
  const monitors = useMonitors();
  const [draft, setDraft] = useState(NO_SEARCH);
  const [query, setQuery] = useState<EventQuery>({ limit: PAGE, order: 'desc' });
  const [events, setEvents] = useState<PanoptesEvent[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [count, setCount] = useState<number | null>(null);
  const [capped, setCapped] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [tookMs, setTookMs] = useState<number | null>(null);
  const [selected, setSelected] = useState<PanoptesEvent | null>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  // A web change's diff link (#/history?versions=<monitor>&from=<version>&to=<version>) opens that watch's versions here.
  const [versionsOf, setVersionsOf] = useState(() => parseVersionsLink(location.hash));
  useEffect(() => {
    const onHash = () => setVersionsOf(parseVersionsLink(location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  // Versions chosen in the viewer go into the address as a new history entry: Back returns to the pair before
  // (hashchange above), a reload or a shared link opens the same two.
  const chooseVersions = (from: number | null, to: number | null) => {
    if (!versionsOf) return;
    const link = versionsLink(versionsOf.monitorId, from, to);
    if (link !== location.hash) history.pushState(null, '', link);
    setVersionsOf(parseVersionsLink(link));
  };
  const closeVersions = () => {
    history.replaceState(null, '', '#/history');
    setVersionsOf(null);
  };

  useShortcuts({ '/': () => searchRef.current?.focus() });

  useEffect(() => {
    if (status !== 'open') return;
    let live = true;
    setLoading(true);
    const started = performance.now();
    Promise.all([client.request('events.list', query), client.request('events.count', { ...query, limit: undefined, before: undefined, after: undefined })]).then(
      ([page, c]) => {
        if (!live) return;
        setTookMs(Math.round(performance.now() - started));
        setEvents(page.events);
        setNext(page.next);
        setCount(c.count);
        setCapped(Boolean(c.capped));
        setError(null);
        setLoading(false);
      },
      (e: Error) => {
        if (!live) return;
        setError(e.message);
        setEvents([]);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [client, query, status]);

  // The query the form's fields stand for; applying the same one again does nothing (no refetch, the selection stays).
  const applied = useRef(JSON.stringify(queryOf(NO_SEARCH)));
  const apply = (fields = draft) => {
    const q = queryOf(fields);
    const key = JSON.stringify(q);
    if (key === applied.current) return;
    applied.current = key;
    setSelected(null);
    setQuery(q);
  };
  // Filters apply as they are chosen, like the Feed's: a list or a date at once, typed words once the typing pauses
  // (Enter or Search applies at once).
  const choose = (fields: typeof NO_SEARCH) => {
    setDraft(fields);
    apply(fields);
  };
  useEffect(() => {
    const t = setTimeout(() => apply(draft), TYPING_PAUSE_MS);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- apply reads only its argument and refs
  }, [draft]);

  const pageParams = (cursor: string): EventQuery =>
    query.order === 'asc' ? { ...query, after: cursor } : { ...query, before: cursor };

  const loadMore = () => {
    if (!next) return;
    setLoading(true);
    client.request('events.list', pageParams(next)).then(
      (page) => {
        setEvents((prev) => [...prev, ...page.events]);
        setNext(page.next);
        setLoading(false);
      },
      (e: Error) => {
        setError(e.message);
        setLoading(false);
      },
    );
  };

  const exportAs = async (format: 'csv' | 'json') => {
    // Export the whole result, not just what is on screen, by walking the keyset pages.
    const all: PanoptesEvent[] = [];
    let cursor: string | null = null;
    try {
      do {
        const page: EventPage = await client.request('events.list', cursor ? { ...pageParams(cursor), limit: 1000 } : { ...query, limit: 1000 });
        // Lists send large events cut short; an export has all of each (asked one by one, they are rare).
        for (const e of page.events) all.push(e.cut ? ((await client.request('events.get', { id: e.id })) ?? e) : e);
        cursor = page.next;
      } while (cursor && all.length < EXPORT_MAX);
    } catch (e) {
      toasts.show({ title: 'Export failed', body: (e as Error).message, tone: 'error' });
      return;
    }
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
    if (format === 'csv') download(`panoptes-events-${stamp}.csv`, eventsToCsv(all), 'text/csv');
    else download(`panoptes-events-${stamp}.json`, JSON.stringify(all, null, 2), 'application/json');
    if (cursor) toasts.show({ title: `Exported the first ${EXPORT_MAX.toLocaleString()} events`, tone: 'info' });
  };

  const q = query.search ?? '';
  return (
    <div className={`history-layout ${selected ? 'with-detail' : ''}`}>
      <section className="page" aria-label="History">
        <div className="page-head">
          <h1>History</h1>
        </div>
        {versionsOf ? (
          <VersionsPanel key={versionsOf.monitorId} monitorId={versionsOf.monitorId} from={versionsOf.from} to={versionsOf.to} onChoose={chooseVersions} onClose={closeVersions} />
        ) : null}
        <form
          className="search-form"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            apply();
          }}
        >
          <input
            ref={searchRef}
            type="search"
            className="grow big"
            aria-label="Search history"
            placeholder="Search titles and bodies (press /)"
            value={draft.search}
            onChange={(e) => setDraft({ ...draft, search: e.target.value })}
          />
          <button type="submit" className="primary">
            Search
          </button>
          <div className="filters">
            <select aria-label="Source" value={draft.source} onChange={(e) => choose({ ...draft, source: e.target.value })}>
              <option value="">All sources</option>
              {(monitors.data ?? []).map((m) => (
                <option key={m.id} value={m.id}>
                  {m.name}
                </option>
              ))}
              <option value="panoptes">Panoptes itself</option>
            </select>
            <input aria-label="Type" placeholder="type, e.g. feed.item" value={draft.type} onChange={(e) => setDraft({ ...draft, type: e.target.value })} />
            <input aria-label="Tag" placeholder="tag" value={draft.tag} onChange={(e) => setDraft({ ...draft, tag: e.target.value })} />
            <label>
              From <input type="date" value={draft.since} onChange={(e) => choose({ ...draft, since: e.target.value })} />
            </label>
            <label>
              To <input type="date" value={draft.until} onChange={(e) => choose({ ...draft, until: e.target.value })} />
            </label>
            <select aria-label="Sort" value={draft.order} onChange={(e) => choose({ ...draft, order: e.target.value as 'asc' | 'desc' })}>
              <option value="desc">Newest first</option>
              <option value="asc">Oldest first</option>
            </select>
          </div>
        </form>
        <div className="result-bar">
          <span aria-live="polite">
            {loading ? 'Searching…' : count !== null ? `${count.toLocaleString()}${capped ? '+' : ''} event${count === 1 && !capped ? '' : 's'}` : ''}
            {tookMs !== null && !loading ? <span className="muted"> · {tookMs} ms</span> : null}
          </span>
          <span className="grow" />
          <button onClick={() => void exportAs('csv')} disabled={!events.length}>
            Export CSV
          </button>
          <button onClick={() => void exportAs('json')} disabled={!events.length}>
            Export JSON
          </button>
        </div>
        <ErrorBox message={error} />
        <table className="history-table" aria-label="Search results">
          <thead>
            <tr>
              <th scope="col" title="Newest first, by when Panoptes received each event">Received</th>
              <th scope="col">Source</th>
              <th scope="col">Title</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr
                key={e.id}
                tabIndex={0}
                className={selected?.id === e.id ? 'selected' : undefined}
                onClick={() => setSelected(e)}
                onKeyDown={(k) => {
                  if (k.key === 'Enter') setSelected(e);
                }}
              >
                <td className="nowrap">
                  <time dateTime={e.receivedAt}>{dateTime(e.receivedAt)}</time>
                  {publishedApart(e) ? (
                    <div className="muted small">
                      published <time dateTime={e.ts}>{dateTime(e.ts)}</time>
                    </div>
                  ) : null}
                </td>
                <td className="nowrap">
                  <KindBadge of={e.source} /> {e.source}
                </td>
                <td>
                  <div className="title-cell">
                    <Highlight text={e.title || '(no title)'} query={q} />
                  </div>
                  {q && e.body ? (
                    <div className="snippet muted">
                      <Highlight text={snippetAround(toPlainText(e.body), q)} query={q} />
                    </div>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {!loading && !events.length && !error ? (
          query.search || query.source || query.type || query.tag || query.since || query.until ? (
            <NoMatch
              onClear={() => {
                choose(NO_SEARCH);
                searchRef.current?.focus();
              }}
            >
              No event matches this search.
            </NoMatch>
          ) : (
            <div className="empty">Nothing found.</div>
          )
        ) : null}
        {next ? (
          <button className="load-more" onClick={loadMore} disabled={loading}>
            Load more
          </button>
        ) : null}
      </section>
      {selected ? (
        <aside className="detail-pane">
          <EventDetail key={selected.id} event={selected} onClose={() => setSelected(null)} />
        </aside>
      ) : null}
    </div>
  );
}

/** The part of a long body around the first search word, so the highlighted match is visible. */
function snippetAround(text: string, query: string, width = 180): string {
  const word = query.split(/\s+/).find((w) => w.length > 1)?.replace(/["*()]/g, '');
  const at = word ? text.toLowerCase().indexOf(word.toLowerCase()) : -1;
  if (at < 0) return text.slice(0, width);
  const start = Math.max(0, at - width / 3);
  return (start > 0 ? '…' : '') + text.slice(start, start + width) + (start + width < text.length ? '…' : '');
}
