import { KindBadge } from '../components/KindBadge.js';
import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { PanoptesEvent } from '../../../core/event.js';
import { dateTime } from '../lib/format.js';
import { useClient, useConnection, usePush, useQuery } from '../state.js';

const HOURS = 24;
const SAMPLE_MAX = 20_000;
const PALETTE = ['#4f7cff', '#e0676b', '#3fb68b', '#d4a22b', '#a86bd9', '#3aa6c4', '#d9792f', '#7a8599'];

/** Events per hour per source over the last day, and each monitor's health. */
export function DashboardView() {
  const client = useClient();
  const { status, generation } = useConnection();
  const monitors = useQuery('monitors.list', {});
  const [events, setEvents] = useState<PanoptesEvent[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (status !== 'open') return;
    let live = true;
    const since = new Date(Date.now() - HOURS * 3600_000).toISOString();
    (async () => {
      const all: PanoptesEvent[] = [];
      let before: string | undefined;
      do {
        const page = await client.request('events.list', { since, limit: 1000, ...(before ? { before } : {}) });
        all.push(...page.events);
        before = page.next ?? undefined;
      } while (before && all.length < SAMPLE_MAX && live);
      if (live) setEvents(all);
    })().catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [client, status, generation]);

  usePush('event', (e) => setEvents((prev) => (prev ? [e, ...prev] : prev)));

  const series = useMemo(() => bucketByHour(events ?? []), [events]);

  return (
    <div className="page">
      <div className="page-head">
        <h1>Dashboard</h1>
      </div>
      <section className="card" aria-label="Events per hour">
        <h2>Events per hour, last {HOURS} h</h2>
        {error ? <div className="error-box">{error}</div> : null}
        {events === null ? <div className="muted">Loading…</div> : series.sources.length ? <HourChart data={series} /> : <div className="empty">No events in the last day.</div>}
      </section>
      <section className="card" aria-label="Monitor health">
        <h2>Monitors</h2>
        <table className="history-table">
          <thead>
            <tr>
              <th scope="col">Monitor</th>
              <th scope="col">Status</th>
              <th scope="col">Last success</th>
              <th scope="col">Failures in a row</th>
            </tr>
          </thead>
          <tbody>
            {(monitors.data ?? []).map((m) => (
              <tr key={m.id}>
                <td>
                  <KindBadge of={m.type} /> {m.name}
                </td>
                <td>
                  <span className={`status status-${m.enabled ? m.health.status : 'paused'}`}>{m.enabled ? m.health.status : 'paused'}</span>
                </td>
                <td>{dateTime(m.health.lastSuccess)}</td>
                <td>{m.health.consecutiveFailures}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}

interface Buckets {
  hours: number[];
  sources: string[];
  counts: number[][];
}

function bucketByHour(events: PanoptesEvent[]): Buckets {
  const now = Math.floor(Date.now() / 3600_000);
  const hours = Array.from({ length: HOURS }, (_, i) => (now - HOURS + 1 + i) * 3600);
  const index = new Map<string, number[]>();
  for (const e of events) {
    const h = Math.floor(Date.parse(e.receivedAt) / 3600_000) - (now - HOURS + 1);
    if (h < 0 || h >= HOURS) continue;
    let row = index.get(e.source);
    if (!row) index.set(e.source, (row = new Array<number>(HOURS).fill(0)));
    row[h] = (row[h] ?? 0) + 1;
  }
  const sources = [...index.keys()].sort();
  return { hours, sources, counts: sources.map((s) => index.get(s)!) };
}

function HourChart({ data }: { data: Buckets }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const dark = matchMedia('(prefers-color-scheme: dark)').matches && document.documentElement.dataset.theme !== 'light' || document.documentElement.dataset.theme === 'dark';
    const axis = { stroke: dark ? '#aab2c0' : '#4b5563', grid: { stroke: dark ? '#2a3140' : '#e5e7eb' }, ticks: { stroke: dark ? '#2a3140' : '#e5e7eb' } };
    const plot = new uPlot(
      {
        width: el.clientWidth || 600,
        height: 260,
        series: [{}, ...data.sources.map((s, i) => ({ label: s, stroke: PALETTE[i % PALETTE.length], width: 2, points: { show: false } }))],
        axes: [axis, { ...axis, label: 'events' }],
        scales: { x: { time: true } },
      },
      [data.hours, ...data.counts],
      el,
    );
    const ro = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: 260 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [data]);
  return <div ref={ref} className="chart" role="img" aria-label={`Events per hour for ${data.sources.join(', ')}`} />;
}
