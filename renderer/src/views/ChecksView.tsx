import { useMemo } from 'react';
import type { PanoptesEvent } from '../../../core/event.js';
import type { MonitorHealth, MonitorInfo } from '../../../core/protocol.js';
import { KindBadge } from '../components/KindBadge.js';
import { timeAgo } from '../lib/format.js';
import { useRecentEvents } from '../lib/recentEvents.js';
import { useQuery, useMonitors } from '../state.js';
import { MaintenancePanel, useMaintenance } from './MaintenancePanel.js';

const DAY_MS = 86_400_000;
const SAMPLES_MAX = 20_000;

type State = 'down' | 'failing' | 'error' | 'up' | 'paused' | 'starting';
const ORDER: State[] = ['down', 'error', 'failing', 'starting', 'up', 'paused'];
const LABEL: Record<State, string> = { down: 'Down', error: 'Not checking', failing: 'Failing', starting: 'Starting', up: 'Up', paused: 'Paused' };
const PILL: Record<State, string> = { down: 'status-failing', error: 'status-failing', failing: 'status-degraded', starting: 'status-paused', up: 'status-ok', paused: 'status-paused' };

/**
 * What the check's monitor said last, in status-board words: checks report their target's state as health
 * ("up, 12 ms", "down: …", "failed 1 of 3 before down: …"); a monitor that cannot run at all is "failing".
 */
function stateOf(h: MonitorHealth): State {
  if (h.status === 'paused' || h.status === 'stopped') return 'paused';
  if (h.status === 'failing') return 'error';
  if (h.status === 'starting') return 'starting';
  if (h.status === 'degraded') return /^down\b/.test(h.message ?? '') ? 'down' : 'failing';
  return 'up';
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const pct = (v: unknown) => (num(v) === null ? '—' : `${num(v)!.toFixed(num(v)! >= 99.995 ? 0 : 2)} %`);

/** A small line of the last day's averages, oldest to newest; an SVG so a board of many checks stays light. */
function Sparkline({ values, label }: { values: number[]; label: string }) {
  if (values.length < 2) return <span className="muted">{values.length ? `${Math.round(values[0]!)}` : '—'}</span>;
  const w = 120;
  const h = 28;
  const max = Math.max(...values);
  const min = Math.min(...values);
  const span = max - min || 1;
  const points = values.map((v, i) => `${((i / (values.length - 1)) * w).toFixed(1)},${(h - 2 - ((v - min) / span) * (h - 4)).toFixed(1)}`).join(' ');
  return (
    <svg className="sparkline" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label}>
      <polyline points={points} fill="none" stroke="currentColor" strokeWidth="1.5" />
    </svg>
  );
}

/** Every check (monitor types that emit `check.sample`) as a status board: state, uptime, response time, last error. */
export function ChecksView() {
  const monitors = useMonitors({ health: true });
  const types = useQuery('monitors.types', {});
  const samples = useRecentEvents(DAY_MS, 'check.sample', SAMPLES_MAX);
  const maintenance = useMaintenance();
  const inMaintenance = useMemo(() => new Map((maintenance.data?.checks ?? []).map((c) => [c.id, c.reason])), [maintenance.data]);

  const checkTypes = useMemo(() => new Set((types.data ?? []).filter((t) => t.events.some((e) => e.type === 'check.sample')).map((t) => t.type)), [types.data]);
  const bySource = useMemo(() => {
    const map = new Map<string, PanoptesEvent[]>();
    // Newest first from the store; kept newest first per check.
    for (const e of samples.events ?? []) {
      const list = map.get(e.source) ?? [];
      list.push(e);
      map.set(e.source, list);
    }
    return map;
  }, [samples.events]);

  const rows = useMemo(() => {
    const list = (monitors.data ?? []).filter((m) => checkTypes.has(m.type));
    return list
      .map((m) => ({ m, state: stateOf(m.health) }))
      .sort((a, b) => ORDER.indexOf(a.state) - ORDER.indexOf(b.state) || a.m.name.localeCompare(b.m.name));
  }, [monitors.data, checkTypes]);

  const counts = ORDER.map((s) => [s, rows.filter((r) => r.state === s).length] as const).filter(([, n]) => n > 0);

  return (
    <div className="page">
      <div className="page-head">
        <h1>Checks</h1>
        <span className="muted" aria-label="Summary">
          {counts.map(([s, n]) => `${n} ${LABEL[s].toLowerCase()}`).join(', ') || 'no checks'}
        </span>
      </div>
      {monitors.error ? <div className="error-box">{monitors.error.message}</div> : null}
      {samples.error ? <div className="error-box">{samples.error}</div> : null}
      {monitors.data && !rows.length ? (
        <div className="empty">No checks yet. Add an HTTP, TCP, ping, DNS, certificate, process, command or SNMP monitor under Monitors.</div>
      ) : null}
      {rows.length ? (
        <table className="checks-board" aria-label="Checks">
          <thead>
            <tr>
              <th scope="col">Check</th>
              <th scope="col">State</th>
              <th scope="col">Uptime 24 h</th>
              <th scope="col">7 d</th>
              <th scope="col">30 d</th>
              <th scope="col">Last 24 h</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ m, state }) => (
              <CheckRow key={m.id} monitor={m} state={state} samples={bySource.get(m.id) ?? []} maintenance={inMaintenance.get(m.id) ?? null} />
            ))}
          </tbody>
        </table>
      ) : null}
      <MaintenancePanel status={maintenance} />
    </div>
  );
}

function CheckRow({ monitor, state, samples, maintenance }: { monitor: MonitorInfo; state: State; samples: PanoptesEvent[]; maintenance: string | null }) {
  const latest = samples[0];
  const series = samples
    .slice()
    .reverse()
    .map((e) => num(e.fields.avg))
    .filter((v): v is number => v !== null);
  const h = monitor.health;
  // The state column already says "down"; the health message's own "down: " would repeat it.
  const now = state === 'down' || state === 'failing' || state === 'error' ? (h.message ?? h.lastError)?.replace(/^down: /, '') : null;
  const lastError = now ?? ((latest?.fields.lastError as string | null | undefined) ?? null);
  return (
    <tr aria-label={monitor.name}>
      <th scope="row">
        <KindBadge of={monitor.type} /> {monitor.name}
      </th>
      <td>
        <span className={`status ${PILL[state]}`}>{LABEL[state]}</span>
        {maintenance ? <div className="small maintenance-note" title={maintenance}>Maintenance: {maintenance}</div> : null}
        {h.lastSuccess ? <div className="muted small">checked {timeAgo(h.lastSuccess)}</div> : null}
      </td>
      <td>{pct(latest?.fields.uptime24h)}</td>
      <td>{pct(latest?.fields.uptime7d)}</td>
      <td>{pct(latest?.fields.uptime30d)}</td>
      <td>
        <Sparkline values={series} label={`${monitor.name}: ${series.length} samples over the last 24 hours`} />
      </td>
      <td className="check-error">{lastError ?? <span className="muted">—</span>}</td>
    </tr>
  );
}
