import type { FleetMachineConfig } from '../../../core/protocol.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { useToasts } from '../components/Toasts.js';
import type { RemoteRuleTarget } from '../rules/RuleBuilder.js';
import { NEW_RULE, type Json } from '../rules/model.js';
import { ruleSummary, type RuleLike } from '../rules/ruleSummary.js';
import { useClient, usePush, useQuery } from '../state.js';
import { ChangeState } from './RemoteMonitors.js';

/**
 * Another machine's local rules (filtering at the source: they run on the events made there, before any is
 * forwarded), edited from here. The list is the agent's configuration as it last published it (or as this desktop's
 * unanswered change will make it); every change is a signed change the agent applies or refuses, said in the banner.
 */
export function RemoteRules(props: { agentId: string; onEdit(rule: Json, originalId: string | null, target: RemoteRuleTarget): void }) {
  const { agentId } = props;
  const client = useClient();
  const toasts = useToasts();
  const view = useQuery('fleet.get', { agentId }, agentId);
  const forwarding = useQuery('forwarding.get', {});
  usePush('fleet', (p) => {
    if (p.agentId === agentId) view.reload();
  });
  usePush('forwarding', (s) => {
    if (forwarding.data) forwarding.set({ ...forwarding.data, status: s });
  });
  const v = view.data;
  const online = forwarding.data?.status.peers.find((p) => p.agentId === agentId)?.state === 'online';
  const fail = (e: Error) => toasts.show({ title: `Could not change ${agentId}`, body: e.message, tone: 'error' });
  const send = (method: 'fleet.saveRule' | 'fleet.removeRule', params: Record<string, unknown>) =>
    client.request(method as 'fleet.removeRule', { agentId, ifRevision: v?.revision, ...params } as never).then((next: FleetMachineConfig) => view.set(next), fail);
  const target = (c: FleetMachineConfig): RemoteRuleTarget => ({
    agentId,
    revision: c.revision,
    monitors: c.monitors.map((m) => ({ id: String(m.id), name: String(m.name ?? m.id), type: String(m.type) })),
  });
  const rules = (v?.rules ?? []) as unknown as RuleLike[];

  return (
    <section aria-label={`Rules on ${agentId}`}>
      <ErrorBox message={view.error?.message} />
      {v ? <ChangeState view={v} online={online} /> : null}
      {v && !v.paired ? <div className="error-box">{agentId} takes changes from another desktop: deploy it from here to manage it.</div> : null}
      <p className="help">These rules run on {agentId} itself, on the events its monitors make there: a rule that stops an event keeps it from being forwarded here.</p>
      <div className="actions remote-actions">
        <button className="primary" disabled={!v?.paired} onClick={() => v && props.onEdit(NEW_RULE, null, target(v))}>
          New rule on {agentId}
        </button>
      </div>
      {v && rules.length === 0 ? <div className="empty">No rules on {agentId} yet.</div> : null}
      <ul className="card-list" aria-label="Rules">
        {rules.map((r) => (
          <li key={r.id} className={`card rule-card ${r.enabled === false ? 'disabled' : ''}`} aria-label={`Rule ${r.name ?? r.id}`}>
            <div className="card-head">
              <label className="switch">
                <input
                  type="checkbox"
                  checked={r.enabled !== false}
                  disabled={!v?.paired}
                  onChange={() => void send('fleet.saveRule', { rule: { ...r, enabled: r.enabled === false } })}
                  aria-label={`Enabled: ${r.name ?? r.id}`}
                />
                <span aria-hidden="true" />
              </label>
              <div className="grow">
                <strong>{r.name ?? r.id}</strong> <code className="muted">{r.id}</code>
                <div className="muted small">{ruleSummary(r)}</div>
              </div>
              <button disabled={!v?.paired} onClick={() => v && props.onEdit(r as unknown as Json, r.id, target(v))}>
                Edit
              </button>
              <button
                className="danger"
                disabled={!v?.paired}
                onClick={() => {
                  if (!confirm(`Delete the rule “${r.name ?? r.id}” on ${agentId}?`)) return;
                  void send('fleet.removeRule', { id: r.id });
                }}
              >
                Delete
              </button>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
