import type { DeploymentInfo, DeployRun, ForwardingPeer } from '../../../core/protocol.js';
import { timeAgo } from '../lib/format.js';
import { useClient } from '../state.js';
import { useToasts } from '../components/Toasts.js';
import { DeployRunView, useDeployments } from '../fleet/deployments.js';

/**
 * Every machine this one hears from on its brokers, with what each one's retained status tells (version, OS,
 * uptime, monitors and their health, events waiting to be forwarded, the last event): the inventory of the fleet.
 * An offline machine keeps what it last told, minus the live figures.
 */
export function MachinesList({ peers }: { peers: ForwardingPeer[] }) {
  const { deployments, runFor } = useDeployments();
  if (!peers.length) return <div className="help">No other machine yet. They appear here once they forward to a broker this machine receives from (`panoptes deploy user@host --broker …` sets one up).</div>;
  return (
    <ul className="card-list machines" aria-label="Machines seen">
      {peers.map((p) => (
        <Machine key={p.agentId} peer={p} deployment={deployments.find((d) => d.agentId === p.agentId) ?? null} run={runFor(p.agentId)} />
      ))}
    </ul>
  );
}

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 2 * 86_400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

const HEALTH_CLASS: Record<string, string> = { ok: 'status-ok', degraded: 'status-degraded', failing: 'status-failing', paused: 'status-paused' };

/** Upgrade and Undeploy, for a machine deployed from this desktop (the engine knows where: no ssh details again). */
function DeployedActions({ deployment: d, run }: { deployment: DeploymentInfo; run: DeployRun | null }) {
  const client = useClient();
  const toasts = useToasts();
  const busy = run?.state === 'running';
  const go = (method: 'deploy.upgrade' | 'deploy.remove') =>
    client.request(method, { agentId: d.agentId }).catch((e: Error) => toasts.show({ title: e.message, tone: 'error' }));
  return (
    <div className="machine-actions" data-testid="machine-deployed">
      <span className="muted">
        deployed from here to <code>{d.target}</code>
        {d.release ? ` · release ${d.release}` : ''}
      </span>{' '}
      <button type="button" className="small" disabled={busy} onClick={() => void go('deploy.upgrade')}>
        Upgrade
      </button>{' '}
      <button
        type="button"
        className="small danger"
        disabled={busy}
        onClick={() => {
          if (window.confirm(`Stop ${d.agentId} on ${d.target} and remove it, with its data?`)) void go('deploy.remove');
        }}
      >
        Undeploy
      </button>
      {run && run.kind !== 'deploy' ? <DeployRunView run={run} /> : null}
    </div>
  );
}

function Machine({ peer: p, deployment, run }: { peer: ForwardingPeer; deployment: DeploymentInfo | null; run: DeployRun | null }) {
  const online = p.state === 'online';
  const facts: string[] = [];
  if (p.version) facts.push(`Panoptes ${p.version}`);
  if (p.os) facts.push(p.os);
  if (online && p.uptime !== undefined) facts.push(`agent up ${duration(p.uptime)}`);
  if (online && p.hostUptime !== undefined) facts.push(`machine up ${duration(p.hostUptime)}`);
  const monitors = p.monitors ?? [];
  const failing = monitors.filter((m) => m.enabled && m.status === 'failing').length;
  const degraded = monitors.filter((m) => m.enabled && m.status === 'degraded').length;
  return (
    <li data-agent={p.agentId} className="machine" aria-label={`Machine ${p.agentId}`} style={{ marginBottom: '0.6rem' }}>
      <div>
        <span className={`status ${online ? 'status-ok' : 'status-failing'}`}>{p.state}</span> <strong>{p.agentId}</strong>
        {p.hostname ? <span className="muted"> ({p.hostname})</span> : null}
        {p.paused ? <span className="status status-paused"> paused</span> : null}
        {p.trust === 'unverified' ? (
          <span className="status status-degraded" data-testid="machine-unverified" title={`No key of ${p.agentId} is recorded here`}>
            {' '}
            unverified — pair
          </span>
        ) : null}
        <span className="muted" title={p.lastSeen}>
          {' '}
          · last seen {timeAgo(p.lastSeen) || p.lastSeen}
          {p.reason ? ` · ${p.reason}` : ''}
        </span>
      </div>
      {facts.length ? (
        <div className="muted" data-testid="machine-facts">
          {facts.join(' · ')}
        </div>
      ) : null}
      <div className="muted" data-testid="machine-activity">
        {online && p.queue !== undefined ? <span>{p.queue === 0 ? 'nothing waiting to forward' : `${p.queue} event${p.queue === 1 ? '' : 's'} waiting to forward`}</span> : null}
        {p.lastEvent ? (
          <span title={p.lastEvent.ts}>
            {online && p.queue !== undefined ? ' · ' : ''}last event {timeAgo(p.lastEvent.ts) || p.lastEvent.ts}: “{p.lastEvent.title || p.lastEvent.type}”
          </span>
        ) : null}
      </div>
      {p.trust === 'unverified' ? (
        <div className="muted" data-testid="machine-unverified-help">
          No key of {p.agentId} is recorded here, so what comes in its name cannot be told from what someone else on the broker publishes: its events and status are
          taken as they come, and no change or question is sent to it. Pair it: Upgrade it from here{deployment ? '' : ' (panoptes deploy HOST --upgrade from this desktop)'}, which reads its key.
        </div>
      ) : null}
      {p.refused?.length ? (
        <details className="machine-refusals" data-testid="machine-refusals">
          <summary className="error-text">
            {p.refused.length} message{p.refused.length === 1 ? '' : 's'} refused in {p.agentId}'s name, the last {timeAgo(p.refused[0]!.at) || p.refused[0]!.at}
          </summary>
          <ul className="plain-list" aria-label={`Messages refused in ${p.agentId}'s name`}>
            {p.refused.map((r, i) => (
              <li key={`${r.at}-${i}`}>
                <span title={r.at}>{timeAgo(r.at) || r.at}</span> · <strong>{r.what}</strong> — {r.why}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      {deployment ? <DeployedActions deployment={deployment} run={run} /> : null}
      {monitors.length ? (
        <details open={failing + degraded > 0}>
          <summary>
            {monitors.length} monitor{monitors.length === 1 ? '' : 's'}
            {failing ? `, ${failing} failing` : ''}
            {degraded ? `, ${degraded} degraded` : ''}
          </summary>
          <ul className="card-list" aria-label={`Monitors on ${p.agentId}`}>
            {monitors.map((m) => (
              <li key={m.id} data-monitor={m.id}>
                <span className={`status ${m.enabled ? (HEALTH_CLASS[m.status] ?? '') : 'status-paused'}`}>{m.enabled ? m.status : 'off'}</span> {m.name} <span className="muted">({m.type})</span>
                {m.message ? <span className="muted"> — {m.message}</span> : null}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </li>
  );
}
