import { useEffect, useState } from 'react';
import type { ForwardingStatusInfo, ValidationIssue } from '../../../core/protocol.js';
import { useClient, usePush, useQuery } from '../state.js';
import { RequestError } from '../transport/client.js';
import { useToasts } from '../components/Toasts.js';
import { BROKER_EXAMPLE, draftOf, emptyRow, updateOf, type BrokerRow, type Draft } from './model.js';
import { ForwardingStatusPanel } from './StatusPanel.js';
import { BrokerFields } from './BrokerFields.js';
import { FieldIssues } from './FieldIssues.js';

/**
 * The Settings view's "Machines" section: forwarding between Panoptes instances over MQTT. This machine's events
 * out to a broker (with a filter in the rule format), other machines' events in from brokers, the embedded broker
 * for two machines and no broker, and the live status. The engine validates everything and keeps passwords in
 * its secret store: they are sent once and never come back (only whether one is stored).
 */
export function ForwardingSettings() {
  const client = useClient();
  const toasts = useToasts();
  const info = useQuery('forwarding.get', {});
  const hello = useQuery('hello', {});
  const [draft, setDraft] = useState<Draft | null>(null);
  const [status, setStatus] = useState<ForwardingStatusInfo | null>(null);
  const [issues, setIssues] = useState<ValidationIssue[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    if (!info.data) return;
    setDraft(draftOf(info.data));
    setStatus(info.data.status);
  }, [info.data]);
  usePush('forwarding', setStatus);

  if (!draft) {
    return (
      <section className="card form" aria-label="Machines">
        <h2>Machines</h2>
        {info.error ? <div className="error-box">{info.error.message}</div> : <div className="help">Loading…</div>}
      </section>
    );
  }

  const set = (patch: Partial<Draft>) => setDraft({ ...draft, ...patch });
  const setRow = (i: number, patch: Partial<BrokerRow>) => set({ subscribe: draft.subscribe.map((r, j) => (j === i ? { ...r, ...patch } : r)) });

  const save = async () => {
    const built = updateOf(draft);
    if ('issues' in built) {
      setIssues(built.issues);
      setError('Not saved: fix the fields marked below.');
      return;
    }
    setSaving(true);
    try {
      const saved = await client.request('forwarding.update', built.update);
      info.set(saved);
      setIssues([]);
      setError(null);
      toasts.show({ title: 'Machines settings saved', tone: 'info' });
    } catch (e) {
      if (e instanceof RequestError && e.issues.length) {
        setIssues(e.issues);
        setError('Not saved: fix the fields marked below.');
      } else {
        setIssues([]);
        setError((e as Error).message);
      }
    } finally {
      setSaving(false);
    }
  };

  const cl = info.data?.commandLineForward;
  return (
    <form
      className="card form"
      aria-label="Machines"
      // The engine's check says what is wrong at each field; the browser's own bubbles would stop the save unexplained.
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h2>Machines</h2>
      <div className="help" style={{ marginBottom: '0.6rem' }}>
        One feed for several machines: each forwards its events over MQTT (in order, queued while the broker is away), and
        the machine you read on takes them in.
      </div>
      {status ? <ForwardingStatusPanel status={status} /> : null}

      <fieldset>
        <legend>Forward this machine's events</legend>
        <label className="check">
          <input type="checkbox" checked={draft.forwardOn} onChange={(e) => set({ forwardOn: e.target.checked })} />
          Forward events to a broker
        </label>
        {cl ? (
          <div className="help">
            This run forwards to <code>{cl.url}</code> (from <code>--forward</code>); saving makes the form below the setting.
          </div>
        ) : null}
        {draft.forwardOn ? (
          <>
            <BrokerFields id="fwd" name="Broker" whose="the broker's" placeholder={BROKER_EXAMPLE} row={draft.forward} onChange={(patch) => set({ forward: { ...draft.forward, ...patch } })} issues={issues} at="$.forward" />
            <div className="field">
              <label htmlFor="fwd-agent">Agent id</label>
              <input id="fwd-agent" value={draft.agentId} placeholder={hello.data?.agentId ?? 'this machine'} onChange={(e) => set({ agentId: e.target.value })} />
              <div className="help">
                Events go to <code>panoptes/{draft.agentId.trim() || hello.data?.agentId || '<agent-id>'}/events</code>.
              </div>
              <FieldIssues issues={issues} at="$.forward.agentId" />
            </div>
            <div className="field">
              <label htmlFor="fwd-filter">Only forward events matching (optional)</label>
              <textarea
                id="fwd-filter"
                rows={4}
                className="mono"
                spellCheck={false}
                value={draft.filterText}
                placeholder={'{ "when": { "source": "rss:*" }, "if": { "field": "title", "contains": "release" } }'}
                onChange={(e) => set({ filterText: e.target.value })}
              />
              <div className="help">A rule's "when" and "if", as JSON. Empty: every event is forwarded.</div>
              <FieldIssues issues={issues} at="$.forward.filter" />
            </div>
          </>
        ) : null}
      </fieldset>

      <fieldset>
        <legend>Take in events from brokers</legend>
        {draft.subscribe.map((r, i) => (
          <div key={i} role="group" aria-label={`Broker ${i + 1}`}>
            <BrokerFields id={`sub-${i}`} name={`Broker ${i + 1}`} whose={`broker ${i + 1}'s`} placeholder={BROKER_EXAMPLE} row={r} onChange={(patch) => setRow(i, patch)} issues={issues} at={`$.subscribe[${i}]`} />
            <div>
              <button type="button" className="small danger" onClick={() => set({ subscribe: draft.subscribe.filter((_, j) => j !== i) })}>
                Remove broker {i + 1}
              </button>
            </div>
          </div>
        ))}
        <button type="button" className="small" onClick={() => set({ subscribe: [...draft.subscribe, emptyRow()] })}>
          Add broker
        </button>
        <div className="help">This machine subscribes to <code>panoptes/+/events</code> there; other machines' events join its feed and history.</div>
      </fieldset>

      <fieldset>
        <legend>Embedded broker</legend>
        <label className="check">
          <input type="checkbox" checked={draft.embedded.enabled} onChange={(e) => set({ embedded: { ...draft.embedded, enabled: e.target.checked } })} />
          Run a broker in this Panoptes
        </label>
        <div className="help">For two machines and no broker: the other machine forwards straight to this one.</div>
        {draft.embedded.enabled ? (
          <>
            <div className="field">
              <label htmlFor="emb-port">Port</label>
              <input id="emb-port" type="number" min={1} max={65535} value={draft.embedded.port} onChange={(e) => set({ embedded: { ...draft.embedded, port: e.target.value } })} />
              <FieldIssues issues={issues} at="$.embeddedBroker.port" />
            </div>
            <div className="field">
              <label htmlFor="emb-host">Listen on</label>
              <select id="emb-host" value={draft.embedded.host} onChange={(e) => set({ embedded: { ...draft.embedded, host: e.target.value } })}>
                <option value="0.0.0.0">All networks (other machines can reach it)</option>
                <option value="127.0.0.1">This machine only</option>
                {['0.0.0.0', '127.0.0.1'].includes(draft.embedded.host) ? null : <option value={draft.embedded.host}>{draft.embedded.host}</option>}
              </select>
            </div>
            <div className="field">
              <label htmlFor="emb-password">Broker password</label>
              <input
                id="emb-password"
                type="password"
                autoComplete="new-password"
                value={draft.embedded.password}
                placeholder={info.data?.secretsSet.embeddedBroker && !draft.embedded.clearPassword ? 'stored — type to replace' : 'none: anyone who can reach the port may publish'}
                onChange={(e) => set({ embedded: { ...draft.embedded, password: e.target.value, clearPassword: false } })}
              />
              <div className="help">
                Other machines log in as <code>{info.data?.embeddedBrokerUsername ?? 'panoptes'}</code> with this password.
              </div>
              {info.data?.secretsSet.embeddedBroker ? (
                <label className="check">
                  <input type="checkbox" checked={draft.embedded.clearPassword} onChange={(e) => set({ embedded: { ...draft.embedded, clearPassword: e.target.checked, password: '' } })} />
                  Remove the stored password
                </label>
              ) : null}
              <FieldIssues issues={issues} at="$.embeddedBroker.password" />
            </div>
          </>
        ) : null}
      </fieldset>

      <fieldset>
        <legend>Rules' MQTT messages</legend>
        <label className="check">
          <input type="checkbox" checked={draft.actionOn} onChange={(e) => set({ actionOn: e.target.checked })} />
          Publish rules' MQTT messages to their own broker
        </label>
        {draft.actionOn ? (
          <>
            <BrokerFields id="act" name="Action broker" whose="the action broker's" placeholder="mqtts://user@home-broker.local:8883" row={draft.action} onChange={(patch) => set({ action: { ...draft.action, ...patch } })} issues={issues} at="$.actionBroker" />
          </>
        ) : (
          <div className="help">
            {draft.forwardOn ? 'Rules\' "mqtt" actions publish to the forward broker above.' : 'Rules\' "mqtt" actions publish to the forward broker; none is set, so they fail until one of the two is.'}
          </div>
        )}
      </fieldset>

      {error ? (
        <div className="error-box" role="alert">
          {error}
          {issues.length ? (
            <ul>
              {issues.map((i, n) => (
                <li key={n}>
                  <code>{i.path}</code>: {i.message}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={saving}>
          {saving ? 'Saving…' : 'Save machines settings'}
        </button>
      </div>
    </form>
  );
}
