import { KindBadge } from '../components/KindBadge.js';
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { PanoptesEvent } from '../../../core/event.js';
import { EventDetail } from '../components/EventDetail.js';
import { useLiveFeed } from '../liveFeed.js';
import { timeAgo } from '../lib/format.js';
import { useShortcuts } from '../lib/keys.js';
import { ReadState } from '../lib/readState.js';
import { toPlainText } from '../lib/sanitize.js';
import { useClient, useMonitors } from '../state.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { FirstRunGuide } from '../components/FirstRunGuide.js';
import { NoMatch } from '../components/NoMatch.js';

/**
 * A row is an event itself, or (grouped by source) a group header. Events are not wrapped: with 100,000 loaded,
 * a wrapper object per event per page of history was a large part of each append's cost (ui bench).
 */
type Header = { kind: 'header'; source: string; count: number };
type Row = Header | PanoptesEvent;
const isHeader = (r: Row): r is Header => (r as Header).kind === 'header';

const ROW_HEIGHT = 58;
const HEADER_HEIGHT = 30;

/**
 * One-line previews, computed once per event: turning an HTML body into text parses it (DOMParser), and doing
 * that for every visible row on every scroll frame was the largest script cost while scrolling (ui bench).
 */
const snippets = new WeakMap<PanoptesEvent, string>();
function snippetOf(e: PanoptesEvent): string {
  let s = snippets.get(e);
  // The preview shows 160 characters, so only the body's start is parsed (cost grows with the input).
  if (s === undefined) snippets.set(e, (s = toPlainText(e.body.slice(0, 1_000)).slice(0, 160)));
  return s;
}

interface FeedRowProps {
  event: PanoptesEvent;
  isRead: boolean;
  selected: boolean;
  focusable: boolean;
  start: number;
  size: number;
  onSelect(e: PanoptesEvent): void;
}

/** Memoized, so a scroll re-renders only the rows that came into view, not every row on screen. */
const FeedRow = memo(function FeedRow({ event: e, isRead, selected, focusable, start, size, onSelect }: FeedRowProps) {
  return (
    <div
      id={'feed-row-' + e.id}
      role="listitem"
      tabIndex={focusable ? 0 : -1}
      aria-current={selected ? 'true' : undefined}
      aria-label={`${isRead ? '' : 'Unread: '}${e.title || '(no title)'} from ${e.source}`}
      className={`feed-row ${isRead ? 'read' : 'unread'} ${selected ? 'selected' : ''}`}
      style={{ transform: `translateY(${start}px)`, height: size }}
      data-event-id={e.id}
      onClick={() => onSelect(e)}
      onKeyDown={(k) => {
        if (k.key === 'Enter') onSelect(e);
      }}
    >
      <KindBadge of={e.source} />
      <div className="feed-row-text">
        <div className="feed-title">{e.title || <em>(no title)</em>}</div>
        <div className="feed-sub">
          <span className="source">{e.source}</span> · <span>{e.type}</span>
          {e.body ? <span className="snippet"> — {snippetOf(e)}</span> : null}
        </div>
      </div>
      <time dateTime={e.ts} title={new Date(e.ts).toLocaleString()}>
        {timeAgo(e.ts)}
      </time>
    </div>
  );
});

interface Facets {
  sources: string[];
  types: string[];
  tags: string[];
}

/**
 * The filter menus' choices. The feed grows at its ends (pushed events on top, pages of history below), so only the
 * events not seen before are looked at: with 100,000 loaded, a pass over all of them per page appended was one of the
 * larger costs of paging in history. A list with nothing seen before (a reconnection's first page) starts over.
 */
function useFacets(events: PanoptesEvent[]): Facets {
  const acc = useRef<{ seen: WeakSet<PanoptesEvent>; sources: Set<string>; types: Set<string>; tags: Set<string>; facets: Facets } | null>(null);
  return useMemo(() => {
    let a = acc.current;
    let top = 0;
    while (top < events.length && !(a?.seen.has(events[top]!) ?? false)) top++;
    if (a === null || top === events.length) {
      a = acc.current = { seen: new WeakSet(), sources: new Set(), types: new Set(), tags: new Set(), facets: { sources: [], types: [], tags: [] } };
    }
    let bottom = events.length;
    while (bottom > top && !a.seen.has(events[bottom - 1]!)) bottom--;
    const sizes = [a.sources.size, a.types.size, a.tags.size];
    const take = (e: PanoptesEvent) => {
      a.seen.add(e);
      a.sources.add(e.source);
      a.types.add(e.type);
      for (const t of e.tags) a.tags.add(t);
    };
    for (let i = 0; i < top; i++) take(events[i]!);
    for (let i = bottom; i < events.length; i++) take(events[i]!);
    if (a.sources.size !== sizes[0] || a.types.size !== sizes[1] || a.tags.size !== sizes[2]) {
      a.facets = { sources: [...a.sources].sort(), types: [...a.types].sort(), tags: [...a.tags].sort() };
    }
    return a.facets;
  }, [events]);
}

export function FeedView({ openEvent }: { openEvent?: { id: string; seq: number } | null } = {}) {
  const feed = useLiveFeed();
  const client = useClient();
  // An event opened from outside (a desktop notification, the tray) may be older than what the feed has loaded.
  const [outside, setOutside] = useState<PanoptesEvent | null>(null);
  const [source, setSource] = useState('');
  const [type, setType] = useState('');
  const [tag, setTag] = useState('');
  const [text, setText] = useState('');
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [grouped, setGrouped] = useState(false);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [readState] = useState(() => new ReadState());
  const [readTick, setReadTick] = useState(0);
  const scrollRef = useRef<HTMLDivElement>(null);
  const filterRef = useRef<HTMLInputElement>(null);

  const facets = useFacets(feed.events);
  // Sources by their monitors' names, as History shows them (ids only for what no monitor names: Panoptes itself).
  const monitors = useMonitors();
  const sourceName = useMemo(() => {
    const names = new Map((monitors.data ?? []).map((m) => [m.id, m.name]));
    return (id: string) => names.get(id) ?? (id === 'panoptes' ? 'Panoptes itself' : id);
  }, [monitors.data]);

  const visible = useMemo(() => {
    const needle = text.trim().toLowerCase();
    // No filter: the feed's own list (no copy of 100,000 entries on every page appended).
    if (!source && !type && !tag && !unreadOnly && !needle) return feed.events;
    return feed.events.filter(
      (e) =>
        (!source || e.source === source) &&
        (!type || e.type === type) &&
        (!tag || e.tags.includes(tag)) &&
        (!unreadOnly || !readState.isRead(e.id) || e.id === selectedId) &&
        (!needle || e.title.toLowerCase().includes(needle) || e.source.toLowerCase().includes(needle)),
    );
  }, [feed.events, source, type, tag, text, unreadOnly, readState, selectedId]);

  const rows: Row[] = useMemo(() => {
    if (!grouped) return visible;
    const bySource = new Map<string, PanoptesEvent[]>();
    for (const e of visible) {
      const list = bySource.get(e.source);
      if (list) list.push(e);
      else bySource.set(e.source, [e]);
    }
    const out: Row[] = [];
    for (const [src, list] of bySource) {
      out.push({ kind: 'header', source: src, count: list.length });
      for (const event of list) out.push(event);
    }
    return out;
  }, [visible, grouped]);

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => (rows[i] && isHeader(rows[i]) ? HEADER_HEIGHT : ROW_HEIGHT),
    getItemKey: (i) => {
      const r = rows[i];
      return r ? (isHeader(r) ? 'h:' + r.source : r.id) : i;
    },
    overscan: 12,
  });

  // No layout jumps: when events arrive on top while the user is reading further down, keep what they see in place.
  const lastSeq = useRef(feed.prepended.seq);
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (feed.prepended.seq === lastSeq.current) return;
    const added = feed.prepended.seq - lastSeq.current;
    lastSeq.current = feed.prepended.seq;
    if (el && el.scrollTop > 0 && !grouped) el.scrollTop += added * ROW_HEIGHT;
  }, [feed.prepended.seq, grouped]);

  // Fetch older events as the end of the list comes into view.
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length ? items[items.length - 1]!.index : -1;
  useEffect(() => {
    if (lastIndex >= rows.length - 20 && feed.hasMore && !feed.loading) feed.loadMore();
  }, [lastIndex, rows.length, feed]);

  const selected = useMemo(
    () => feed.events.find((e) => e.id === selectedId) ?? (outside && outside.id === selectedId ? outside : null),
    [feed.events, selectedId, outside],
  );

  useEffect(() => {
    if (!openEvent) return;
    let live = true;
    setSelectedId(openEvent.id);
    readState.markRead(openEvent.id);
    setReadTick((t) => t + 1);
    if (!feed.events.some((e) => e.id === openEvent.id)) {
      client.request('events.get', { id: openEvent.id }).then(
        (e) => live && setOutside(e),
        () => {},
      );
    }
    return () => {
      live = false;
    };
    // Only a new request to open an event should run this, not every change of the feed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [openEvent?.seq]);

  const select = (e: PanoptesEvent | undefined, rowIndex?: number) => {
    if (!e) return;
    setSelectedId(e.id);
    readState.markRead(e.id);
    setReadTick((t) => t + 1);
    if (rowIndex !== undefined) virtualizer.scrollToIndex(rowIndex, { align: 'auto' });
    document.getElementById('feed-row-' + e.id)?.focus({ preventScroll: true });
  };

  // Rows get one stable callback (so memoized rows stay memoized) that always runs the current `select`.
  const selectRef = useRef(select);
  selectRef.current = select;
  const onRowSelect = useCallback((e: PanoptesEvent) => selectRef.current(e), []);

  /** Select the event `delta` events away from the selected one (headers skipped; the first when none is); found on key press only. */
  const move = (delta: number) => {
    const at = selectedId === null ? -1 : rows.findIndex((r) => !isHeader(r) && r.id === selectedId);
    let i = at;
    if (at === -1) i = rows.findIndex((r) => !isHeader(r));
    else {
      const step = Math.sign(delta);
      for (let left = Math.abs(delta), j = at + step; left > 0 && j >= 0 && j < rows.length; j += step) {
        if (isHeader(rows[j]!)) continue;
        i = j;
        left--;
      }
    }
    const r = rows[i];
    if (r && !isHeader(r)) select(r, i);
  };

  useShortcuts({
    j: () => move(1),
    k: () => move(-1),
    ArrowDown: () => move(1),
    ArrowUp: () => move(-1),
    '/': () => filterRef.current?.focus(),
    o: () => {
      if (selected?.url && /^https?:/i.test(selected.url)) window.open(selected.url, '_blank', 'noopener,noreferrer');
    },
    Escape: () => setSelectedId(null),
  });

  const clearFilters = () => {
    setSource('');
    setType('');
    setTag('');
    setText('');
    setUnreadOnly(false);
    filterRef.current?.focus();
  };

  // Of what the filters show: "Mark all read (2)" with two shown marks those two, not everything loaded. Counted when
  // events, filters or read marks change, not on every scroll frame (it walks the shown events).
  const filtered = visible !== feed.events;
  const unread = useMemo(
    () => visible.reduce((n, e) => n + (readState.isRead(e.id) ? 0 : 1), 0),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [visible, readState, readTick],
  );

  return (
    <div className={`feed-layout ${selected ? 'with-detail' : ''}`}>
      <section className="feed-list-pane" aria-label="Live feed">
        <div className="toolbar" role="toolbar" aria-label="Feed filters">
          <input
            ref={filterRef}
            type="search"
            className="grow"
            placeholder="Filter loaded events (press /)"
            aria-label="Filter events"
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
          <select aria-label="Source" value={source} onChange={(e) => setSource(e.target.value)}>
            <option value="">All sources</option>
            {facets.sources.map((s) => (
              <option key={s} value={s}>
                {sourceName(s)}
              </option>
            ))}
          </select>
          <select aria-label="Type" value={type} onChange={(e) => setType(e.target.value)}>
            <option value="">All types</option>
            {facets.types.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
          {facets.tags.length ? (
            <select aria-label="Tag" value={tag} onChange={(e) => setTag(e.target.value)}>
              <option value="">All tags</option>
              {facets.tags.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          ) : null}
          <label className="check">
            <input type="checkbox" checked={unreadOnly} onChange={(e) => setUnreadOnly(e.target.checked)} /> Unread
          </label>
          <label className="check">
            <input type="checkbox" checked={grouped} onChange={(e) => setGrouped(e.target.checked)} /> By source
          </label>
          <button
            disabled={!unread}
            onClick={() => {
              if (filtered) readState.markManyRead(visible.map((e) => e.id));
              else if (feed.events[0]) readState.markAllRead(feed.events[0].id);
              setReadTick((t) => t + 1);
            }}
          >
            Mark all read{unread ? ` (${unread})` : ''}
          </button>
        </div>
        <ErrorBox message={feed.error?.message} />
        <div ref={scrollRef} className="feed-scroll" role="list" aria-label="Events, newest first" aria-busy={feed.loading}>
          {!feed.loading && rows.length === 0 ? (
            feed.events.length ? (
              <NoMatch onClear={clearFilters}>No event matches these filters.</NoMatch>
            ) : (
              <div className="empty">
                No events yet. New events appear here as they happen.
                <FirstRunGuide />
              </div>
            )
          ) : null}
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {items.map((vi) => {
              const row = rows[vi.index];
              if (!row) return null;
              const style = { transform: `translateY(${vi.start}px)`, height: vi.size };
              if (isHeader(row))
                return (
                  <div key={vi.key} className="feed-group" style={style} role="presentation">
                    <KindBadge of={row.source} /> {sourceName(row.source)} <span className="muted">({row.count})</span>
                  </div>
                );
              const e = row;
              return (
                <FeedRow
                  key={vi.key}
                  event={e}
                  isRead={readState.isRead(e.id)}
                  selected={e.id === selectedId}
                  focusable={e.id === selectedId || (!selectedId && vi.index === 0)}
                  start={vi.start}
                  size={vi.size}
                  onSelect={onRowSelect}
                />
              );
            })}
          </div>
        </div>
        <div className="statusline muted">
          {feed.events.length.toLocaleString()} loaded{visible.length !== feed.events.length ? `, ${visible.length.toLocaleString()} shown` : ''} · j/k to move, o to open the link, / to filter
        </div>
      </section>
      {selected ? (
        <aside className="detail-pane">
          <EventDetail key={selected.id} event={selected} onClose={() => setSelectedId(null)} />
        </aside>
      ) : null}
    </div>
  );
}
