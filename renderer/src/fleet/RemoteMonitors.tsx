import { useState } from 'react';
import type { FleetMachineConfig, FleetMonitorHealth, MonitorInfo, MonitorTypeInfo } from '../../../core/protocol.js';
import type { PanoptesEvent } from '../../../core/event.js';
import { KindBadge } from '../components/KindBadge.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { TypePicker } from '../components/TypePicker.js';
import { useToasts } from '../components/Toasts.js';
import { dateTime, timeAgo } from '../lib/format.js';
import { useClient, usePush, useQuery } from '../state.js';

/**
 * Another machine's monitors, edited from here: the list is the agent's configuration as it last published it (or
 * as this desktop's unanswered change will make it), health comes from the agent's status, and every change is sent
 * as a signed change the agent applies or refuses — the banner says which, and what waits for an agent that is away.
 */
export function RemoteMonitors(props: { agentId: string; types: MonitorTypeInfo[]; onEdit(type: MonitorTypeInfo, monitor: MonitorInfo | null, revision: string): void }) {
  const { agentId, types } = props;
  const client = useClient();
  const toasts = useToasts();
  const view = useQuery('fleet.get', { agentId }, agentId);
  const forwarding = useQuery('forwarding.get', {});
  const [choosing, setChoosing] = useState(false);
  /** Asked of the agent itself (over the broker, answered by it): its monitors' health now, its recent events. */
  const [asked, setAsked] = useState<{ health: FleetMonitorHealth[] | null; events: PanoptesEvent[] | null; leftOut: number; at: string | null }>({ health: null, events: null, leftOut: 0, at: null });
  const [asking, setAsking] = useState<string | null>(null);
  const [askError, setAskError] = useState<string | null>(null);
  const askAgent = async () => {
    setAsking('Asking…');
    setAskError(null);
    try {
      const [h, e] = await Promise.all([client.request('fleet.health', { agentId }), client.request('fleet.events', { agentId, limit: 20 })]);
      setAsked({ health: h.monitors, events: e.events, leftOut: e.leftOut ?? 0, at: new Date().toISOString() });
    } catch (err) {
      setAskError((err as Error).message);
    } finally {
      setAsking(null);
    }
  };
  usePush('fleet', (p) => {
    if (p.agentId === agentId) view.reload();
  });
  usePush('forwarding', (s) => {
    if (forwarding.data) forwarding.set({ ...forwarding.data, status: s });
  });

  const v = view.data;
  const peer = forwarding.data?.status.peers.find((p) => p.agentId === agentId);
  // What the agent answered counts until a newer status of it comes (a pause, a resume, a monitor starting there).
  const askedIsNewer = asked.at !== null && (!peer?.lastSeen || Date.parse(asked.at) >= Date.parse(peer.lastSeen));
  const healthOf = (id: string) => {
    const a = askedIsNewer ? asked.health?.find((m) => m.id === id) : undefined;
    return a ? { status: a.health.status, message: a.health.message } : peer?.monitors?.find((m) => m.id === id);
  };
  const fail = (e: Error) => toasts.show({ title: `Could not change ${agentId}`, body: e.message, tone: 'error' });
  // All its monitors at once, as the tray's "Pause all monitors" there: sent as a change (applied now, or when it is
  // back); each monitor keeps its own Pause/Resume.
  const pauseAll = (paused: boolean) =>
    client.request('fleet.pause', { agentId, paused, ifRevision: v?.revision }).then((next) => view.set(next), fail);
  // The list's "Check now", run there: its next scheduled check, now.
  const checkNow = (m: MonitorInfo) =>
    client.request('fleet.checkNow', { agentId, id: m.id }).then(
      (r) => toasts.show({ title: r.started ? `Checking “${m.name}” on ${agentId} now` : `“${m.name}” on ${agentId} cannot check now: ${r.why ?? 'it is not running'}`, tone: r.started ? 'info' : 'error' }),
      (e: Error) => toasts.show({ title: `Could not check “${m.name}” on ${agentId}`, body: e.message, tone: 'error' }),
    );
  const send = (method: 'fleet.removeMonitor' | 'fleet.saveMonitor', params: Record<string, unknown>) =>
    client.request(method as 'fleet.removeMonitor', { agentId, ifRevision: v?.revision, ...params } as never).then((next: FleetMachineConfig) => view.set(next), fail);

  const asInfo = (m: Record<string, unknown>): MonitorInfo => {
    const h = healthOf(String(m.id));
    return {
      ...(m as unknown as MonitorInfo),
      secretsSet: [],
      health: { monitorId: String(m.id), status: (h?.status ?? 'unknown') as MonitorInfo['health']['status'], message: h?.message ?? null, lastSuccess: null, lastError: null, lastErrorAt: null, nextRetry: null, consecutiveFailures: 0 },
    };
  };

  return (
    <section aria-label={`Monitors on ${agentId}`}>
      <ErrorBox message={view.error?.message} />
      {v ? <ChangeState view={v} online={peer?.state === 'online'} /> : null}
      {v && !v.paired ? <div className="error-box">{agentId} takes changes from another desktop: deploy it from here to manage it.</div> : null}
      {v?.refused ? (
        <p className="error-box" role="alert" data-testid="fleet-refused">
          {timeAgo(v.refused.at)}: {v.refused.message}
        </p>
      ) : null}
      {v && v.paired && !v.verified ? (
        <p className="notice" data-testid="fleet-unverified">
          {agentId} is unverified: no key of it is known here, so what it says cannot be told from what another broker user publishes, and no change or question is sent to it. Pair it: upgrade it from here (Settings → Machines, or panoptes deploy --upgrade), which reads its key.
        </p>
      ) : null}
      <div className="actions remote-actions">
        <button className="primary" disabled={!v?.paired} onClick={() => setChoosing((c) => !c)} aria-expanded={choosing}>
          Add monitor on {agentId}
        </button>
        {v ? (
          <button disabled={!v.paired} onClick={() => void pauseAll(!v.paused)}>
            {v.paused ? `Resume all monitors on ${agentId}` : `Pause all monitors on ${agentId}`}
          </button>
        ) : null}
      </div>
      {v?.paused ? (
        <p className="notice" role="status" data-testid="fleet-paused">
          {v.pending ? `All monitors on ${agentId} will be paused once it applies change ${v.pending.seq}` : `All monitors on ${agentId} are paused`}: none of
          them checks anything until you resume them.
        </p>
      ) : null}
      {choosing && v ? <TypePicker types={types} onPick={(t) => props.onEdit(t, null, v.revision)} /> : null}
      {v && v.monitors.length === 0 ? <div className="empty">No monitors on {agentId} yet.</div> : null}
      <section className="card remote-asked" aria-label={`Asked of ${agentId}`}>
        <div className="card-head">
          <strong className="grow">Health and recent events, asked of {agentId}</strong>
          <button disabled={!v?.paired || asking !== null} onClick={() => void askAgent()}>
            {asking ?? (asked.at ? 'Ask again' : `Ask ${agentId}`)}
          </button>
        </div>
        <ErrorBox message={askError ?? undefined} />
        {asked.at && asked.events ? (
          <>
            <p className="muted">
              {agentId} answered {timeAgo(asked.at)}: {asked.health?.length ?? 0} monitor{asked.health?.length === 1 ? '' : 's'}, {asked.events.length} recent event{asked.events.length === 1 ? '' : 's'}
              {asked.leftOut ? ` (${asked.leftOut} more left out to keep the answer under 1 MiB)` : ''}.
            </p>
            <ul className="plain-list" aria-label={`Recent events on ${agentId}`}>
              {asked.events.map((e) => (
                <li key={e.id}>
                  <strong>{e.title || '(no title)'}</strong> <span className="muted">{e.source} · {dateTime(e.ts)}</span>
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </section>
      <ul className="card-list" aria-label="Monitors">
        {(v?.monitors ?? [])
          .map(asInfo)
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((m) => (
            <li key={m.id} className="card monitor-card" aria-label={`Monitor ${m.name}`} data-monitor={m.id}>
              <div className="card-head">
                <KindBadge of={m.type} />
                <div className="grow">
                  <strong>{m.name}</strong> <code className="muted">{m.id}</code>
                </div>
                <span className={`status status-${m.enabled ? m.health.status : 'paused'}`}>{m.enabled ? m.health.status : 'paused'}</span>
              </div>
              {m.health.message ? <p className="muted">{m.health.message}</p> : null}
              <div className="actions">
                <button
                  disabled={!v?.paired || !m.enabled || v.paused}
                  title={!m.enabled || v?.paused ? 'Resume the monitor first' : `Check the source on ${agentId} now instead of waiting for the next scheduled check`}
                  onClick={() => void checkNow(m)}
                >
                  Check now
                </button>
                <button
                  disabled={!v?.paired}
                  onClick={() => {
                    const t = types.find((x) => x.type === m.type);
                    if (t && v) props.onEdit(t, m, v.revision);
                  }}
                >
                  Edit
                </button>
                <button disabled={!v?.paired} onClick={() => void send('fleet.saveMonitor', { monitor: { id: m.id, type: m.type, name: m.name, enabled: !m.enabled, config: m.config } })}>
                  {m.enabled ? 'Pause' : 'Resume'}
                </button>
                <button
                  className="danger"
                  disabled={!v?.paired}
                  onClick={() => {
                    if (!confirm(`Remove the monitor “${m.name}” from ${agentId}?`)) return;
                    void send('fleet.removeMonitor', { id: m.id });
                  }}
                >
                  Remove
                </button>
              </div>
            </li>
          ))}
      </ul>
    </section>
  );
}

/** What became of the last change sent, and what waits for an agent that is away. */
export function ChangeState({ view: v, online }: { view: FleetMachineConfig; online: boolean }) {
  if (v.pending)
    return (
      <p className="notice" role="status" data-testid="fleet-change-state">
        {online ? `Change ${v.pending.seq} sent to ${v.agentId}, waiting for its answer…` : `${v.agentId} is offline: change ${v.pending.seq} waits on the broker and is applied when it is back.`}
      </p>
    );
  if (!v.last) return null;
  return v.last.outcome === 'applied' ? (
    <p className="muted" role="status" data-testid="fleet-change-state">
      Change {v.last.seq} applied on {v.agentId} {timeAgo(v.last.at)} (revision {v.last.rev}).
    </p>
  ) : (
    <p className="error-box" role="status" data-testid="fleet-change-state">
      {v.agentId} refused {v.last.seq !== null ? `change ${v.last.seq}` : 'a change'} {timeAgo(v.last.at)}: {v.last.reason}
    </p>
  );
}
