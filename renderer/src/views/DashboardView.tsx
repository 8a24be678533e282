import { KindBadge } from '../components/KindBadge.js';
import { useMemo } from 'react';
import type { PanoptesEvent } from '../../../core/event.js';
import { TimeChart, type ChartSeries } from '../components/TimeChart.js';
import { ActionsPanel } from '../components/ActionsPanel.js';
import { dateTime } from '../lib/format.js';
import { useMonitors } from '../state.js';
import { useRecentEvents } from '../lib/recentEvents.js';

const HOURS = 24;
const SAMPLE_MAX = 20_000;
const WEATHER_DAYS = 7;
const SERIES_MAX = 2_000;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Points of several series (by key) onto one shared, sorted time axis; gaps are null. */
function align(points: { t: number; key: string; v: number | null }[]): { x: number[]; series: ChartSeries[] } {
  const xs = [...new Set(points.map((p) => p.t))].sort((a, b) => a - b);
  const at = new Map(xs.map((t, i) => [t, i]));
  const keys = [...new Set(points.map((p) => p.key))].sort();
  const series = keys.map((k) => ({ label: k, values: new Array<number | null>(xs.length).fill(null) }));
  for (const p of points) series[keys.indexOf(p.key)]!.values[at.get(p.t)!] = p.v;
  return { x: xs, series };
}

/** A reading's place, unless it is bare coordinates (readings stored by older versions): then the monitor's name. */
function seriesName(place: unknown, monitor: string): string {
  return typeof place === 'string' && place && !/^-?[\d.]+, -?[\d.]+$/.test(place) ? place : monitor;
}

const mb = (v: number) => `${Math.round(v / 1048576)} MB`;
/** A small store says "250 KB", not "0 MB". */
const size = (v: number) => (v < 1048576 ? `${Math.max(1, Math.round(v / 1024))} KB` : mb(v));
const perMin = (v: number) => `${Math.round(v * 10) / 10}/min`;
const ms = (v: number) => `${Math.round(v)} ms`;

/** Events per hour per source, the weather's temperature, Panoptes' own health, and each monitor's state. */
export function DashboardView() {
  const monitors = useMonitors();
  const all = useRecentEvents(HOURS * 3600_000, undefined, SAMPLE_MAX);
  const weather = useRecentEvents(WEATHER_DAYS * 86_400_000, 'weather.reading', SERIES_MAX);
  const health = useRecentEvents(HOURS * 3600_000, 'panoptes.health', SERIES_MAX);

  // Sources by their monitors' names, as the weather chart, the Feed and History show them.
  const sourceName = useMemo(() => {
    const names = new Map((monitors.data ?? []).map((m) => [m.id, m.name]));
    return (id: string) => names.get(id) ?? (id === 'panoptes' ? 'Panoptes itself' : id);
  }, [monitors.data]);
  const perHour = useMemo(() => bucketByHour(all.events ?? [], sourceName), [all.events, sourceName]);

  const temperature = useMemo(() => {
    const list = (weather.events ?? []).slice().reverse();
    const unit = list.map((e) => (e.fields.units as { temperature?: unknown } | undefined)?.temperature).find((u) => typeof u === 'string') as string | undefined;
    const names = new Map((monitors.data ?? []).map((m) => [m.id, m.name]));
    const data = align(
      list.map((e) => ({ t: Math.floor(Date.parse(e.ts) / 1000), key: seriesName(e.fields.place, names.get(e.source) ?? e.source), v: num(e.fields.temperature) })),
    );
    return { ...data, unit: unit ?? '' };
  }, [weather.events, monitors.data]);

  const tempFormat = useMemo(() => (v: number) => `${Math.round(v * 10) / 10}${temperature.unit}`, [temperature.unit]);

  const self = useMemo(() => {
    const list = (health.events ?? []).slice().reverse();
    const x = list.map((e) => Math.floor(Date.parse(e.ts) / 1000));
    const f = (k: string) => list.map((e) => num(e.fields[k]));
    return {
      x,
      memory: [
        { label: 'resident memory', values: f('rssBytes') },
        { label: 'JS heap', values: f('heapUsedBytes') },
      ],
      rate: [{ label: 'events stored per minute', values: f('eventsPerMinute') }],
      lag: [{ label: 'rule processing lag', values: f('processingLagMs') }],
      latest: list[list.length - 1] ?? null,
    };
  }, [health.events]);

  return (
    <div className="page">
      <div className="page-head">
        <h1>Dashboard</h1>
      </div>
      <section className="card" aria-label="Events per hour">
        <h2>Events per hour received, last {HOURS} h</h2>
        {all.error ? <div className="error-box">{all.error}</div> : null}
        {all.events === null ? (
          <div className="muted">Loading…</div>
        ) : perHour.series.length ? (
          <TimeChart x={perHour.hours} series={perHour.series} height={260} yLabel="events" label={`Events per hour for ${perHour.series.map((s) => s.label).join(', ')}`} />
        ) : (
          <div className="empty">No events in the last day.</div>
        )}
      </section>
      <section className="card" aria-label="Temperature">
        <h2>Temperature, last {WEATHER_DAYS} days</h2>
        {weather.error ? <div className="error-box">{weather.error}</div> : null}
        {weather.events === null ? (
          <div className="muted">Loading…</div>
        ) : temperature.x.length ? (
          <TimeChart
            x={temperature.x}
            series={temperature.series}
            yLabel={temperature.unit || 'temperature'}
            label={`Temperature for ${temperature.series.map((s) => s.label).join(', ')}`}
            format={tempFormat}
          />
        ) : (
          <div className="empty">No weather readings yet. A Weather monitor records the temperature at every check.</div>
        )}
      </section>
      <section className="card" aria-label="Panoptes health">
        <h2>Panoptes itself, last {HOURS} h</h2>
        {health.error ? <div className="error-box">{health.error}</div> : null}
        {health.events !== null && !self.x.length ? (
          <div className="empty">No health samples yet. A System monitor with “Panoptes’ own health” on records them.</div>
        ) : null}
        {self.latest ? (
          <dl className="meta compact" aria-label="Latest health sample">
            <dt>Memory</dt>
            <dd>{num(self.latest.fields.rssBytes) !== null ? mb(num(self.latest.fields.rssBytes)!) : '—'}</dd>
            <dt>Events stored</dt>
            <dd>{num(self.latest.fields.eventsStored)?.toLocaleString() ?? '—'}</dd>
            <dt>Store size</dt>
            <dd>{num(self.latest.fields.storeBytes) !== null ? size(num(self.latest.fields.storeBytes)!) : '—'}</dd>
            <dt>Up for</dt>
            <dd>{num(self.latest.fields.uptimeSeconds) !== null ? `${Math.round(num(self.latest.fields.uptimeSeconds)! / 60)} min` : '—'}</dd>
            <dt>Sampled</dt>
            <dd>{dateTime(self.latest.ts)}</dd>
          </dl>
        ) : null}
        {self.x.length ? (
          <div className="chart-grid">
            <div className="card">
              <h3>Memory</h3>
              <TimeChart x={self.x} series={self.memory} height={180} label="Panoptes memory use" format={mb} />
            </div>
            <div className="card">
              <h3>Event rate</h3>
              <TimeChart x={self.x} series={self.rate} height={180} label="Events stored per minute" format={perMin} />
            </div>
            <div className="card">
              <h3>Processing lag</h3>
              <TimeChart x={self.x} series={self.lag} height={180} label="Rule processing lag" format={ms} />
            </div>
          </div>
        ) : null}
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
      <ActionsPanel />
    </div>
  );
}

/** Counts per hour of receipt (a backfill published weeks ago is this hour's), one series per source's name. */
function bucketByHour(events: PanoptesEvent[], name: (source: string) => string): { hours: number[]; series: ChartSeries[] } {
  const now = Math.floor(Date.now() / 3600_000);
  const hours = Array.from({ length: HOURS }, (_, i) => (now - HOURS + 1 + i) * 3600);
  const index = new Map<string, number[]>();
  for (const e of events) {
    const h = Math.floor(Date.parse(e.receivedAt) / 3600_000) - (now - HOURS + 1);
    if (h < 0 || h >= HOURS) continue;
    // Keyed by name: two monitors of one name share a line, as they share it in the legend.
    const key = name(e.source);
    let row = index.get(key);
    if (!row) index.set(key, (row = new Array<number>(HOURS).fill(0)));
    row[h] = (row[h] ?? 0) + 1;
  }
  return { hours, series: [...index.keys()].sort().map((s) => ({ label: s, values: index.get(s)! })) };
}
