import { useEffect, useState } from 'react';
import type { ForwardingInfo, ForwardingStatusInfo, ForwardingUpdate, ValidationIssue } from '../../../core/protocol.js';
import { useClient, usePush, useQuery } from '../state.js';
import { RequestError } from '../transport/client.js';
import { timeAgo } from '../lib/format.js';
import { useToasts } from './Toasts.js';

/**
 * The Settings view's "Machines" section: forwarding between Panoptes instances over MQTT. This machine's events
 * out to a broker (with a filter in the rule format), other machines' events in from brokers, the embedded broker
 * for two machines and no broker, and the live status. The engine validates everything and keeps passwords in
 * its secret store: they are sent once and never come back (only whether one is stored).
 */

interface BrokerRow {
  url: string;
  /** Empty: keep the stored one. */
  password: string;
  tls: TlsDraft;
  /** Settings the form does not edit (client id, keepalive…) travel along unchanged. */
  rest: Record<string, unknown>;
  passwordStored: boolean;
}

/** A broker's TLS files (paths on the machine the engine runs on; empty: not used) and whether its certificate is checked. */
interface TlsDraft {
  ca: string;
  cert: string;
  key: string;
  verify: boolean;
}

const noTls = (): TlsDraft => ({ ca: '', cert: '', key: '', verify: true });

function tlsDraftOf(tls: unknown): TlsDraft {
  if (typeof tls !== 'object' || tls === null) return noTls();
  const t = tls as { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean };
  return { ca: t.ca ?? '', cert: t.cert ?? '', key: t.key ?? '', verify: t.rejectUnauthorized !== false };
}

/** A stored broker as a form row: the password never comes back, only whether one is stored. */
function rowOf(ref: { url: string; tls?: unknown }, passwordStored: boolean): BrokerRow {
  const { url, tls, ...rest } = ref as { url: string; tls?: unknown } & Record<string, unknown>;
  return { url, password: '', tls: tlsDraftOf(tls), rest, passwordStored };
}

interface Draft {
  forwardOn: boolean;
  forward: BrokerRow;
  agentId: string;
  filterText: string;
  subscribe: BrokerRow[];
  embedded: { enabled: boolean; port: string; host: string; password: string; clearPassword: boolean };
  /** Rules' `mqtt` action: its own broker, or (off) the forward broker. */
  actionOn: boolean;
  action: BrokerRow;
}

const BROKER_EXAMPLE = 'mqtt://user@broker.local:1883';

const emptyRow = (): BrokerRow => ({ url: '', password: '', tls: noTls(), rest: {}, passwordStored: false });

function draftOf(info: ForwardingInfo): Draft {
  const f = info.settings.forward;
  const cl = info.commandLineForward;
  const { agentId, filter, ...fRef } = f ?? { url: cl?.url ?? '' };
  const a = info.settings.actionBroker;
  return {
    forwardOn: f !== null || cl !== null,
    forward: rowOf(fRef, info.secretsSet.forward),
    agentId: agentId ?? (f ? '' : cl?.agentId ?? ''),
    filterText: filter && (filter.when !== undefined || filter.if !== undefined) ? JSON.stringify(filter, null, 2) : '',
    subscribe: info.settings.subscribe.map((ref, i) => rowOf(ref, info.secretsSet.subscribe[i] ?? false)),
    embedded: {
      enabled: info.settings.embeddedBroker.enabled,
      port: String(info.settings.embeddedBroker.port),
      host: info.settings.embeddedBroker.host,
      password: '',
      clearPassword: false,
    },
    actionOn: a !== null,
    action: a ? rowOf(a, info.secretsSet.actionBroker) : emptyRow(),
  };
}

/** The draft as the engine's update; a filter that is not JSON is reported here, before anything is sent. */
function updateOf(d: Draft): { update: ForwardingUpdate } | { issues: ValidationIssue[] } {
  let filter: { when?: unknown; if?: unknown } | undefined;
  if (d.forwardOn && d.filterText.trim()) {
    try {
      filter = JSON.parse(d.filterText) as { when?: unknown; if?: unknown };
    } catch (e) {
      return { issues: [{ path: '$.forward.filter', message: `not JSON: ${(e as Error).message}` }] };
    }
  }
  // TLS fields go as typed: the engine drops empty ones and checks the files.
  const tls = (t: TlsDraft) => ({ ca: t.ca, cert: t.cert, key: t.key, ...(t.verify ? {} : { rejectUnauthorized: false }) });
  const row = (r: BrokerRow) => ({ ...r.rest, url: r.url.trim(), tls: tls(r.tls), ...(r.password ? { password: r.password } : {}) });
  return {
    update: {
      forward: d.forwardOn ? { ...row(d.forward), ...(d.agentId.trim() ? { agentId: d.agentId.trim() } : {}), ...(filter ? { filter } : {}) } : null,
      subscribe: d.subscribe.filter((r) => r.url.trim()).map(row),
      embeddedBroker: {
        enabled: d.embedded.enabled,
        port: Number(d.embedded.port),
        host: d.embedded.host,
        ...(d.embedded.password ? { password: d.embedded.password } : d.embedded.clearPassword ? { password: null } : {}),
      },
      actionBroker: d.actionOn ? row(d.action) : null,
    },
  };
}

/** The problems at `at` and below it (`exact`: at `at` only, when the fields below show their own). */
function FieldIssues({ issues, at, exact = false }: { issues: ValidationIssue[]; at: string; exact?: boolean }) {
  const mine = issues.filter((i) => i.path === at || (!exact && (i.path.startsWith(at + '.') || i.path.startsWith(at + '['))));
  if (!mine.length) return null;
  return (
    <div className="error field-issue" role="alert" data-path={at}>
      {mine.map((i) => (i.path === at ? i.message : `${i.path.slice(at.length).replace(/^\./, '')}: ${i.message}`)).join('; ')}
    </div>
  );
}

function Dot({ on, label }: { on: boolean; label: string }) {
  return <span className={`status ${on ? 'status-ok' : 'status-failing'}`}>{label}</span>;
}

export function ForwardingStatusPanel({ status }: { status: ForwardingStatusInfo }) {
  const f = status.forward;
  return (
    <section aria-label="Forwarding status" className="forwarding-status">
      <table className="fields">
        <tbody>
          <tr>
            <th>Forwarding</th>
            <td data-testid="forward-status">
              {f ? (
                <>
                  <Dot on={f.connected} label={f.connected ? 'connected' : 'not connected'} /> to <code>{f.broker}</code> as <code>{f.agentId}</code>
                  {' · '}
                  <span data-testid="forward-queued">{f.queued} queued</span>
                  {f.lastError && !f.connected ? <div className="help">{f.lastError}</div> : null}
                </>
              ) : (
                <span className="muted">off</span>
              )}
            </td>
          </tr>
          {status.receivers.map((r) => (
            <tr key={r.broker}>
              <th>Receiving</th>
              <td>
                <Dot on={r.connected} label={r.connected ? 'connected' : 'not connected'} /> <code>{r.broker}</code> · {r.stored} received
                {r.duplicates ? `, ${r.duplicates} duplicates dropped` : ''}
                {r.rejected ? `, ${r.rejected} rejected` : ''}
                {r.lastError && !r.connected ? <div className="help">{r.lastError}</div> : null}
              </td>
            </tr>
          ))}
          {status.embeddedBroker ? (
            <tr>
              <th>Embedded broker</th>
              <td>
                <Dot on={status.embeddedBroker.running} label={status.embeddedBroker.running ? 'running' : 'stopped'} /> on{' '}
                <code>
                  {status.embeddedBroker.host}:{status.embeddedBroker.port}
                </code>
                {status.embeddedBroker.error ? <div className="help">{status.embeddedBroker.error}</div> : null}
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <h3 style={{ fontSize: '1em', margin: '0.8rem 0 0.3rem' }}>Machines seen</h3>
      {status.peers.length ? (
        <ul className="card-list" aria-label="Machines seen">
          {status.peers.map((p) => (
            <li key={p.agentId} data-agent={p.agentId} style={{ marginBottom: '0.3rem' }}>
              <Dot on={p.state === 'online'} label={p.state} /> <strong>{p.agentId}</strong>
              {p.hostname ? <span className="muted"> ({p.hostname})</span> : null}
              <span className="muted" title={p.lastSeen}>
                {' '}
                · last seen {timeAgo(p.lastSeen) || p.lastSeen}
                {p.reason ? ` · ${p.reason}` : ''}
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <div className="help">No other machine yet. They appear here once they forward to a broker this machine receives from.</div>
      )}
      {status.problems.length ? (
        <div className="error-box" role="alert">
          {status.problems.map((p, i) => (
            <div key={i}>{p}</div>
          ))}
        </div>
      ) : null}
    </section>
  );
}

function PasswordInput({ id, row, onChange }: { id: string; row: BrokerRow; onChange(password: string): void }) {
  return (
    <input
      id={id}
      type="password"
      autoComplete="new-password"
      value={row.password}
      placeholder={row.passwordStored ? 'stored — type to replace' : 'none'}
      onChange={(e) => onChange(e.target.value)}
    />
  );
}

/**
 * A broker's TLS files, folded away until used. Paths are on the machine the engine runs on (this one for the
 * desktop app, the agent's machine for a headless agent); the engine checks them when the form is saved.
 */
function TlsFields(props: { id: string; name: string; whose: string; tls: TlsDraft; onChange(t: TlsDraft): void; issues: ValidationIssue[]; at: string }) {
  const { id, name, whose, tls, onChange, issues, at } = props;
  const inUse = Boolean(tls.ca || tls.cert || tls.key || !tls.verify || issues.some((i) => i.path.startsWith(`${at}.tls`)));
  const [open, setOpen] = useState(inUse);
  const file = (field: 'ca' | 'cert' | 'key', label: string, placeholder: string) => (
    <div className="field">
      <label htmlFor={`${id}-${field}`}>
        {name} {label}
      </label>
      <input id={`${id}-${field}`} className="mono" spellCheck={false} value={tls[field]} placeholder={placeholder} onChange={(e) => onChange({ ...tls, [field]: e.target.value })} />
      <FieldIssues issues={issues} at={`${at}.tls.${field}`} />
    </div>
  );
  return (
    <details className="tls" open={open || inUse} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>{name} TLS (mqtts:// and wss://): private CA, client certificate</summary>
      {file('ca', 'CA file', "/etc/panoptes/ca.pem (empty: the system's CAs)")}
      {file('cert', 'client certificate', '/etc/panoptes/client.pem (only if the broker asks for one)')}
      {file('key', 'client key', '/etc/panoptes/client.key')}
      <label className="check">
        <input type="checkbox" checked={tls.verify} onChange={(e) => onChange({ ...tls, verify: e.target.checked })} />
        Check {whose} certificate
      </label>
      {tls.verify ? null : <div className="help warn">Not checked: anyone between this machine and the broker can read and change what is sent.</div>}
      <FieldIssues issues={issues} at={`${at}.tls`} exact />
    </details>
  );
}

/**
 * One broker's address, password and TLS files, labelled with `name` ("Broker", "Broker 2", "Action broker"):
 * the same fields wherever a broker is configured.
 */
function BrokerFields(props: { id: string; name: string; whose: string; placeholder: string; row: BrokerRow; onChange(patch: Partial<BrokerRow>): void; issues: ValidationIssue[]; at: string }) {
  const { id, name, whose, placeholder, row, onChange, issues, at } = props;
  return (
    <>
      <div className="field">
        <label htmlFor={`${id}-url`}>{name} address</label>
        <input id={`${id}-url`} value={row.url} placeholder={placeholder} onChange={(e) => onChange({ url: e.target.value })} />
        <FieldIssues issues={issues} at={`${at}.url`} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-password`}>{name} password</label>
        <PasswordInput id={`${id}-password`} row={row} onChange={(password) => onChange({ password })} />
        <FieldIssues issues={issues} at={`${at}.password`} />
      </div>
      <TlsFields id={`${id}-tls`} name={name} whose={whose} tls={row.tls} onChange={(tls) => onChange({ tls })} issues={issues} at={at} />
    </>
  );
}

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
