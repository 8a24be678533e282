import type { DeploymentInfo, DeployRun, FleetInfo, ForwardingPeer } from '../../../core/protocol.js';
import { timeAgo } from '../lib/format.js';
import { useClient, usePush, useQuery } from '../state.js';
import { useToasts } from '../components/Toasts.js';
import { DeployRunView, useDeployments } from '../fleet/deployments.js';

/**
 * Every machine this one hears from on its brokers, with what each one's retained status tells (version, OS,
 * uptime, monitors and their health, events waiting to be forwarded, the last event): the inventory of the fleet.
 * An offline machine keeps what it last told, minus the live figures.
 */
export function MachinesList({ peers }: { peers: ForwardingPeer[] }) {
  const { deployments, runFor } = useDeployments();
  // Which machines take changes from this desktop (paired, their configuration seen): they get Pause all / Resume.
  const fleet = useQuery('fleet.list', {});
  usePush('fleet', () => fleet.reload());
  if (!peers.length) return <div className="help">No other machine yet. They appear here once they forward to a broker this machine receives from (`panoptes deploy user@host --broker …` sets one up).</div>;
  return (
    <ul className="card-list machines" aria-label="Machines seen">
      {peers.map((p) => (
        <Machine key={p.agentId} peer={p} deployment={deployments.find((d) => d.agentId === p.agentId) ?? null} run={runFor(p.agentId)} managed={fleet.data?.machines.find((m) => m.agentId === p.agentId && m.paired) ?? null} />
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

/**
 * What can be done to a machine from its entry: pause or resume all its monitors (one that takes changes from here:
 * sent as a change, applied there now or when it is back), and forget one that is gone for good (offline only: one
 * that runs would be back with its next status).
 */
function MachineActions({ peer: p, managed, deployment, busy }: { peer: ForwardingPeer; managed: FleetInfo['machines'][number] | null; deployment: DeploymentInfo | null; busy: boolean }) {
  const client = useClient();
  const toasts = useToasts();
  const online = p.state === 'online';
  // The desktop's own wish (its change, maybe still waiting for the agent) counts over the last status.
  const paused = managed ? managed.paused : !!p.paused;
  const pauseAll = (next: boolean) =>
    client.request('fleet.pause', { agentId: p.agentId, paused: next }).then(
      (v) => toasts.show({ title: v.pending ? `${p.agentId} will ${next ? 'pause' : 'resume'} all its monitors once it applies change ${v.pending.seq}` : `${next ? 'Paused' : 'Resumed'} all monitors on ${p.agentId}`, tone: 'info' }),
      (e: Error) => toasts.show({ title: `Could not ${next ? 'pause' : 'resume'} ${p.agentId}`, body: e.message, tone: 'error' }),
    );
  const forget = () => {
    const what = deployment ? `, where it was deployed (${deployment.target}; nothing there is touched)` : '';
    if (!window.confirm(`Forget ${p.agentId}? Its entry, its key and pairing${what}, and its status on the broker are removed here. If it comes back it shows up again as unpaired.`)) return;
    client.request('fleet.forget', { agentId: p.agentId }).then(
      (r) =>
        toasts.show({
          title: `Forgot ${p.agentId}`,
          ...(r.notCleared.length ? { body: `Its status could not be cleared on ${r.notCleared.map((n) => `${n.broker} (${n.why})`).join(', ')}: it may be listed again, offline, from there.`, tone: 'error' as const } : { tone: 'info' as const }),
        }),
      (e: Error) => toasts.show({ title: `Could not forget ${p.agentId}`, body: e.message, tone: 'error' }),
    );
  };
  if (!managed && online) return null;
  return (
    <div className="machine-actions" data-testid="machine-actions">
      {managed ? (
        <button type="button" className="small" onClick={() => void pauseAll(!paused)}>
          {paused ? `Resume all monitors on ${p.agentId}` : `Pause all monitors on ${p.agentId}`}
        </button>
      ) : null}{' '}
      {!online ? (
        <button type="button" className="small danger" disabled={busy} onClick={forget} title="A machine gone for good: remove it from this list, with its key and what is kept of it here">
          Forget
        </button>
      ) : null}
    </div>
  );
}

function Machine({ peer: p, deployment, run, managed }: { peer: ForwardingPeer; deployment: DeploymentInfo | null; run: DeployRun | null; managed: FleetInfo['machines'][number] | null }) {
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
        {p.paused ? <span className="status status-paused" data-testid="machine-paused"> paused</span> : null}
        {p.trust === 'unverified' ? (
          <span className="status status-degraded" data-testid="machine-unverified" title={`${p.agentId} is not paired with this desktop: no key of it is recorded here`}>
            {' '}
            not paired
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
          {deployment ? (
            <>
              {p.agentId} was deployed from here before agents had keys, so it is not paired yet: its events and status are shown as they come (unsigned), and it
              takes no change from here. Upgrade it to pair it (the upgrade reads its key).
            </>
          ) : (
            <>
              {p.agentId} forwards here without having been deployed from this desktop: its events are shown, but it is not managed from here.{' '}
              <details className="machine-pairing">
                <summary>How to pair it</summary>
                Its events and status are not signed with a key known here, so they cannot be told from what another user of the broker could publish in its
                name. To manage it from here, stop the agent started by hand there and deploy it from this desktop:{' '}
                <code>panoptes deploy USER@HOST --broker URL --agent-id {p.agentId}</code>, or Deploy an agent below. One deployed with{' '}
                <code>panoptes deploy</code> before agents had keys is paired by <code>panoptes deploy USER@HOST --upgrade</code>.
              </details>
            </>
          )}
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
      <MachineActions peer={p} managed={managed} deployment={deployment} busy={run?.state === 'running'} />
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
