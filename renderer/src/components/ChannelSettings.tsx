import { useState } from 'react';
import type { ChannelInfo, ChannelTestResult, ChannelTypeInfo } from '../../../core/protocol.js';
import { useClient, usePush, useQuery } from '../state.js';
import { RequestError } from '../transport/client.js';
import { timeAgo } from '../lib/format.js';
import { buildConfig, fieldMessage } from '../lib/schemaFields.js';
import { SchemaForm } from './SchemaForm.js';
import { useSchemaForm } from './useSchemaForm.js';
import { ErrorBox } from './ErrorBox.js';
import { FormActions } from './FormActions.js';
import { useToasts } from './Toasts.js';

/**
 * Settings → Channels: where notifications can reach you off this machine (ntfy, Telegram, Matrix…). Each channel
 * shows how its last send went; "Send test notification" tries it now. A channel is added by picking its type
 * (the form is built from the type's schema) or by pasting an Apprise-style URL. Tokens are sent once and kept in
 * the engine's secret store; the form only learns whether one is stored.
 */
export function ChannelSettings() {
  const client = useClient();
  const toasts = useToasts();
  const types = useQuery('channels.types', {});
  const channels = useQuery('channels.list', {});
  usePush('channels', (list) => channels.set(list));
  const [editing, setEditing] = useState<{ type: ChannelTypeInfo; channel: ChannelInfo | null } | null>(null);
  const [results, setResults] = useState<Record<string, ChannelTestResult | 'sending'>>({});
  const typeOf = (t: string) => types.data?.find((x) => x.type === t);

  const test = async (c: ChannelInfo) => {
    setResults((r) => ({ ...r, [c.id]: 'sending' }));
    try {
      const res = await client.request('channels.test', { id: c.id });
      setResults((r) => ({ ...r, [c.id]: res }));
    } catch (e) {
      setResults((r) => ({ ...r, [c.id]: { ok: false, message: (e as Error).message, field: null, retryAfterMs: null } }));
    }
  };

  return (
    <section className="card form" aria-label="Channels">
      <h2>Channels</h2>
      <p className="muted">Where notifications reach you away from this screen: your phone through ntfy, Pushover or Telegram, a Matrix or XMPP chat, Discord, Slack, mail or a webhook.</p>
      {channels.error ? <ErrorBox message={channels.error.message} /> : null}
      {channels.data && channels.data.length === 0 && !editing ? <p className="muted">No channels yet.</p> : null}
      <ul className="plain-list channel-list">
        {(channels.data ?? []).map((c) => {
          const r = results[c.id];
          const t = typeOf(c.type);
          return (
            <li key={c.id} className="channel-row" aria-label={`Channel ${c.name}`}>
              <div className="channel-head">
                <strong>{c.name}</strong> <span className="badge">{t?.title ?? c.type}</span> <HealthBadge channel={c} />
                {!c.enabled ? <span className="badge">off</span> : null}
              </div>
              {c.health.status === 'failing' && c.health.lastError ? (
                <div className="error channel-last-error">
                  Last error{c.health.lastErrorAt ? ` (${timeAgo(c.health.lastErrorAt)})` : ''}: {c.health.lastError}
                </div>
              ) : null}
              <div className="actions">
                <button type="button" onClick={() => void test(c)} disabled={r === 'sending'}>
                  {r === 'sending' ? 'Sending…' : 'Send test notification'}
                </button>
                <button type="button" onClick={() => t && setEditing({ type: t, channel: c })} disabled={!t}>
                  Edit
                </button>
                <button
                  type="button"
                  className="danger"
                  onClick={() => {
                    if (!confirm(`Remove the channel “${c.name}”?`)) return;
                    client.request('channels.remove', { id: c.id }).then(
                      () => channels.set((prev) => (prev ?? []).filter((x) => x.id !== c.id)),
                      (e: Error) => toasts.show({ title: 'Could not remove the channel', body: e.message, tone: 'error' }),
                    );
                  }}
                >
                  Remove
                </button>
              </div>
              {r && r !== 'sending' ? (
                <div className={r.ok ? 'ok-box' : 'error-box'} role="status" aria-label="Test result">
                  {r.ok ? r.message : `Not sent: ${r.message}`}
                </div>
              ) : null}
            </li>
          );
        })}
      </ul>
      {editing ? (
        <ChannelForm
          type={editing.type}
          channel={editing.channel}
          onDone={(saved) => {
            setEditing(null);
            if (saved) channels.set((prev) => [...(prev ?? []).filter((x) => x.id !== saved.id), saved]);
          }}
        />
      ) : (
        <AddChannel types={types.data ?? []} onPick={(type) => setEditing({ type, channel: null })} onAdded={(c) => channels.set((prev) => [...(prev ?? []).filter((x) => x.id !== c.id), c])} />
      )}
    </section>
  );
}

function HealthBadge({ channel }: { channel: ChannelInfo }) {
  const h = channel.health;
  if (h.status === 'ok') return <span className="status status-ok" title={h.lastSuccess ?? ''}>ok{h.lastSuccess ? ` · sent ${timeAgo(h.lastSuccess)}` : ''}</span>;
  if (h.status === 'failing') return <span className="status status-failing">failing</span>;
  return <span className="status">not used yet</span>;
}

/** Pick a type for the form, or paste an Apprise-style URL and add it at once. */
function AddChannel({ types, onPick, onAdded }: { types: ChannelTypeInfo[]; onPick(t: ChannelTypeInfo): void; onAdded(c: ChannelInfo): void }) {
  const client = useClient();
  const toasts = useToasts();
  const [type, setType] = useState('');
  const [url, setUrl] = useState('');
  const [name, setName] = useState('');
  const [urlError, setUrlError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const schemes = types.flatMap((t) => t.urlSchemes.map((s) => `${s}://`)).join(' ');

  const addFromUrl = async () => {
    if (!url.trim()) return setUrlError('Paste a URL like ntfys://ntfy.sh/my-topic');
    setBusy(true);
    try {
      const added = await client.request('channels.add', { url: url.trim(), ...(name.trim() ? { name: name.trim() } : {}) });
      setUrl('');
      setName('');
      setUrlError(null);
      toasts.show({ title: `Added “${added.name}”`, tone: 'info' });
      onAdded(added);
    } catch (e) {
      setUrlError(e instanceof RequestError && e.issues.length ? e.issues.map((i) => i.message).join('; ') : (e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="add-channel">
      <h3>Add a channel</h3>
      <div className="field">
        <label htmlFor="channel-type">Type</label>
        <div className="row">
          <select id="channel-type" value={type} onChange={(e) => setType(e.target.value)}>
            <option value="">Choose…</option>
            {types.map((t) => (
              <option key={t.type} value={t.type}>
                {t.title}
              </option>
            ))}
          </select>
          <button
            type="button"
            disabled={!type}
            onClick={() => {
              const t = types.find((x) => x.type === type);
              if (t) onPick(t);
            }}
          >
            Set up
          </button>
        </div>
        {type ? <div className="help">{types.find((x) => x.type === type)?.description}</div> : null}
      </div>
      <div className="field">
        <label htmlFor="channel-url">…or paste an Apprise URL</label>
        <input
          id="channel-url"
          className="mono"
          value={url}
          spellCheck={false}
          autoComplete="off"
          placeholder="ntfys://ntfy.sh/my-topic"
          aria-invalid={urlError ? true : undefined}
          aria-describedby="channel-url-help channel-url-err"
          onChange={(e) => setUrl(e.target.value)}
        />
        <div className="help" id="channel-url-help">
          Known: {schemes || '…'}. Tokens in the URL go to the secret store.
        </div>
        {urlError ? (
          <div className="error" id="channel-url-err" role="alert">
            {urlError}
          </div>
        ) : null}
      </div>
      <div className="field">
        <label htmlFor="channel-url-name">Name</label>
        <input id="channel-url-name" value={name} placeholder="e.g. My phone" onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="actions">
        <button type="button" onClick={() => void addFromUrl()} disabled={busy}>
          {busy ? 'Adding…' : 'Add from URL'}
        </button>
      </div>
    </div>
  );
}

function ChannelForm({ type, channel, onDone }: { type: ChannelTypeInfo; channel: ChannelInfo | null; onDone(saved?: ChannelInfo): void }) {
  const client = useClient();
  const toasts = useToasts();
  const { fields, values, setValues, errors, setErrors, formError, setFormError, busy, attempt } = useSchemaForm(type.configSchema, channel?.config, (i) => i.message);
  const [name, setName] = useState(channel?.name ?? '');
  const [result, setResult] = useState<ChannelTestResult | null>(null);

  /**
   * The whole form at once, as the monitor forms do: what the page can tell (empty, not an address) and the engine's
   * check of the type's schema on the rest (a topic's letters, a room id, https), each at its field in words.
   */
  const collect = async () => {
    const { config, errors: errs } = buildConfig(fields, values);
    // A new channel needs its required secrets; an existing one keeps the stored ones when left empty.
    for (const f of fields) {
      if (f.kind === 'secret' && f.required && !values[f.name] && !channel?.secretsSet.includes(f.name)) errs[f.name] = `${f.label} is required`;
    }
    const all = { ...errs };
    const rest: string[] = [];
    try {
      const { issues } = await client.request('channels.validate', channel ? { id: channel.id, config } : { type: type.type, config });
      for (const i of issues) {
        const key = i.path.replace(/^\$\.?/, '').split(/[.[]/)[0] ?? '';
        const field = fields.find((f) => f.name === key);
        if (!field) rest.push(i.message);
        else if (!(key in errs)) all[key] ??= fieldMessage(field, i.message); // the page's own word on that field stands
      }
    } catch {
      // An engine that cannot answer: the page's own findings are still shown, and the save's check speaks.
    }
    setErrors(all);
    setFormError(rest.length ? rest.join('; ') : null);
    return Object.keys(all).length || rest.length ? null : config;
  };

  const test = async () => {
    const config = await collect();
    if (!config) return;
    setResult(null);
    await attempt('test', async () => {
      // An existing channel's stored secrets fill in what the form left empty.
      const r = await client.request('channels.test', channel ? { id: channel.id, config } : { type: type.type, config });
      setResult(r);
      if (!r.ok && r.field && fields.some((f) => f.name === r.field)) setErrors({ [r.field]: r.message });
    });
  };

  const save = async () => {
    const config = await collect();
    if (!config) return;
    await attempt('save', async () => {
      const saved = channel
        ? await client.request('channels.update', { id: channel.id, name: name.trim() || channel.name, config })
        : await client.request('channels.add', { type: type.type, name: name.trim() || type.title, config });
      toasts.show({ title: channel ? `Saved “${saved.name}”` : `Added “${saved.name}”`, tone: 'info' });
      onDone(saved);
    });
  };

  return (
    <form
      className="channel-form"
      aria-label={channel ? `Edit channel ${channel.name}` : `New ${type.title} channel`}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h3>{channel ? `Edit ${channel.name}` : `Add ${type.title} channel`}</h3>
      <p className="muted">{type.description}</p>
      <div className="field">
        <label htmlFor="channel-name">Name</label>
        <input id="channel-name" value={name} placeholder={type.title} onChange={(e) => setName(e.target.value)} />
      </div>
      <SchemaForm fields={fields} values={values} errors={errors} secretsSet={channel?.secretsSet} onChange={(n, v) => setValues((prev) => ({ ...prev, [n]: v }))} />
      <ErrorBox message={formError} />
      {result ? (
        <div className={result.ok ? 'ok-box' : 'error-box'} role="status" aria-label="Test result">
          {result.ok ? result.message : `Not sent: ${result.message}`}
        </div>
      ) : null}
      <FormActions busy={busy} saveLabel={channel ? 'Save' : 'Add channel'} testLabel="Send test notification" testingLabel="Sending…" onTest={() => void test()} onCancel={() => onDone()} />
    </form>
  );
}
