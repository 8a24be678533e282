import { useState } from 'react';
import type { DeploymentInfo, DeployRun } from '../../../core/protocol.js';
import { usePush, useQuery } from '../state.js';
import { dateTime } from '../lib/format.js';

/**
 * The agents deployed from this desktop and the deploy runs the engine knows (under way, or the last few ended),
 * kept current by the `deploy` push: the deploy form and the machines' Upgrade/Undeploy buttons share it.
 */
export function useDeployments(): { deployments: DeploymentInfo[]; runs: DeployRun[]; runFor(agentId: string): DeployRun | null } {
  const q = useQuery('deploy.list', {});
  const [runs, setRuns] = useState<Record<string, DeployRun>>({});
  usePush('deploy', (run) => {
    setRuns((r) => ({ ...r, [run.runId]: run }));
    // A run that ended changed what is deployed (added, upgraded, removed).
    if (run.state !== 'running') q.reload();
  });
  const all = { ...Object.fromEntries((q.data?.runs ?? []).map((r) => [r.runId, r])), ...runs };
  const list = Object.values(all).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  return {
    deployments: q.data?.deployments ?? [],
    runs: list,
    runFor: (agentId) => [...list].reverse().find((r) => r.agentId === agentId) ?? null,
  };
}

const STEP_LABEL: Record<string, string> = {
  check: 'Checking the machine: ssh, Node, the install folder, the broker from there',
  copy: 'Copying this build',
  install: 'Writing its configuration and starting it',
  online: 'Waiting for it to report online',
  rollback: 'Rolling back to the release before',
  remove: 'Removing it',
};

const MARK: Record<string, string> = { running: '…', done: '✓', failed: '✗' };

/** A run's steps as they go, and how it ended. */
export function DeployRunView({ run }: { run: DeployRun }) {
  const verb = run.kind === 'deploy' ? 'Deploying' : run.kind === 'upgrade' ? 'Upgrading' : 'Undeploying';
  return (
    <section aria-label={`${verb} ${run.agentId ?? run.target}`} className="deploy-run" data-state={run.state} data-run={run.runId}>
      <ol className="deploy-steps" aria-label="Steps">
        {run.steps.map((s, i) => (
          <li key={i} data-step={s.step} data-state={s.state}>
            <span className={`status ${s.state === 'done' ? 'status-ok' : s.state === 'failed' ? 'status-failing' : 'status-degraded'}`} aria-hidden="true">
              {MARK[s.state]}
            </span>{' '}
            {STEP_LABEL[s.step] ?? s.step}
            <div className="help">{s.text}</div>
          </li>
        ))}
      </ol>
      <div className="help deploy-when">
        started {dateTime(run.startedAt)}
        {run.endedAt ? ` · ended ${dateTime(run.endedAt)} (${Math.max(1, Math.round((Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000))} s)` : ''}
        {run.state === 'interrupted' ? ' · interrupted' : ''}
      </div>
      {run.state === 'failed' || run.state === 'interrupted' ? (
        <div className="error-box" role="alert">
          {run.message}
        </div>
      ) : null}
      {run.state === 'done' ? (
        <div className="help" role="status">
          {run.kind === 'undeploy' ? `${run.agentId} was removed from ${run.target}.` : `${run.agentId} is online on ${run.target}${run.kind === 'upgrade' ? ' with this build' : ''}.`}
        </div>
      ) : null}
    </section>
  );
}
