import { KindBadge } from '../components/KindBadge.js';
import { useEffect, useState } from 'react';
import type { MonitorInfo, MonitorTypeInfo } from '../../../core/protocol.js';
import type { PanoptesEvent } from '../../../core/event.js';
import { SchemaForm } from '../components/SchemaForm.js';
import { useSchemaForm } from '../components/useSchemaForm.js';
import { useToasts } from '../components/Toasts.js';
import { dateTime, timeAgo } from '../lib/format.js';
import { buildConfig, fieldMessage } from '../lib/schemaFields.js';
import { useClient, useQuery, useMonitors } from '../state.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { FormActions } from '../components/FormActions.js';
import { SignInPanel } from '../components/SignInPanel.js';
import { PagePicker } from '../components/PagePicker.js';
import { RemoteMonitors } from '../fleet/RemoteMonitors.js';
import { MachineSwitch, usePairedMachines } from '../fleet/MachineSwitch.js';
import { TypePicker } from '../components/TypePicker.js';
import { useShortcuts } from '../lib/keys.js';
import { useFieldLookup } from '../components/useFieldLookup.js';
import { download } from '../lib/exportFile.js';
import { opmlForImport } from '../lib/opmlFile.js';

/** `remote`: the monitor is on another machine, changed by a signed change sent over the broker (engine/fleet/). */
type Remote = { agentId: string; revision: string };
type Editing = ({ mode: 'add'; type: MonitorTypeInfo } | { mode: 'edit'; type: MonitorTypeInfo; monitor: MonitorInfo }) & { remote?: Remote };

export function MonitorsView() {
  const monitors = useMonitors({ health: true });
  const types = useQuery('monitors.types', {});
  const [editing, setEditing] = useState<Editing | null>(null);
  const [choosing, setChoosing] = useState(false);
  // Whose monitors are shown: this machine's (null) or an agent's deployed from here.
  const [machine, setMachine] = useState<string | null>(null);
  const machines = usePairedMachines();

  const typeOf = (t: string) => types.data?.find((x) => x.type === t);
  // Edit clicked before the types have loaded (they answer after the list, at load): opened once they arrive, rather
  // than a click that does nothing.
  const [pendingEdit, setPendingEdit] = useState<string | null>(null);
  const openEdit = (m: MonitorInfo) => {
    const t = typeOf(m.type);
    if (t) setEditing({ mode: 'edit', type: t, monitor: m });
    else setPendingEdit(m.id);
  };
  useEffect(() => {
    if (!pendingEdit || !types.data) return;
    setPendingEdit(null);
    const m = monitors.data?.find((x) => x.id === pendingEdit);
    const t = m && typeOf(m.type);
    if (m && t) setEditing({ mode: 'edit', type: t, monitor: m });
  }, [types.data, pendingEdit]);
  useShortcuts({ Escape: () => setChoosing(false) });

  // `#/monitors?add=mail` (the first-run guide's links) opens that type's add form.
  useEffect(() => {
    const wanted = /[?&]add=([a-z0-9_-]+)/.exec(location.hash)?.[1];
    const type = wanted && types.data?.find((x) => x.type === wanted);
    if (!type) return;
    history.replaceState(null, '', '#/monitors');
    setEditing({ mode: 'add', type });
  }, [types.data]);

  if (editing)
    return (
      <MonitorForm
        key={editing.mode === 'edit' ? editing.monitor.id : editing.type.type}
        editing={editing}
        onDone={(saved) => {
          setEditing(null);
          if (saved && !editing.remote) monitors.set((prev) => [...(prev ?? []).filter((m) => m.id !== saved.id), saved]);
        }}
        onOpen={(id) => {
          const m = monitors.data?.find((x) => x.id === id);
          const t = m && typeOf(m.type);
          if (m && t) setEditing({ mode: 'edit', type: t, monitor: m });
        }}
      />
    );

  return (
    <div className="page">
      <div className="page-head">
        <h1>Monitors</h1>
        <MachineSwitch machines={machines} value={machine} onChange={setMachine} />
        {machine === null ? (
          <>
            <button className="primary" onClick={() => setChoosing((c) => !c)} aria-expanded={choosing}>
              Add monitor
            </button>
            <OpmlButtons onImported={() => monitors.reload()} />
          </>
        ) : null}
      </div>
      {machine !== null ? (
        <RemoteMonitors
          key={machine}
          agentId={machine}
          types={types.data ?? []}
          onEdit={(type, monitor, revision) => setEditing(monitor ? { mode: 'edit', type, monitor, remote: { agentId: machine, revision } } : { mode: 'add', type, remote: { agentId: machine, revision } })}
        />
      ) : (
        localList()
      )}
    </div>
  );

  function localList() {
    return (
      <>
      {choosing ? (
        <TypePicker
          types={types.data ?? []}
          error={types.error?.message}
          onPick={(t) => {
            setChoosing(false);
            setEditing({ mode: 'add', type: t });
          }}
        />
      ) : null}
      <ErrorBox message={monitors.error?.message} />
      {monitors.data && monitors.data.length === 0 ? (
        <div className="empty">No monitors yet. “Add monitor” starts watching a feed, a mailbox, a web page…</div>
      ) : null}
      <ul className="card-list" aria-label="Monitors">
        {(monitors.data ?? [])
          .slice()
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((m) => (
            <MonitorCard key={m.id} monitor={m} onEdit={() => openEdit(m)} onChanged={(next) => monitors.set((prev) => (prev ?? []).map((x) => (x.id === next.id ? next : x)))}
              onRemoved={() => monitors.set((prev) => (prev ?? []).filter((x) => x.id !== m.id))} />
          ))}
      </ul>
      </>
    );
  }
}

/** Feeds to and from other readers: the watched feeds as an OPML file, and an OPML file's feeds added (known ones skipped). */
function OpmlButtons({ onImported }: { onImported(): void }) {
  const client = useClient();
  const toasts = useToasts();
  const importFile = async (file: File) => {
    try {
      const r = await client.request('monitors.importOpml', { opml: await opmlForImport(file) });
      toasts.show({ title: `Imported ${r.added.length} feed${r.added.length === 1 ? '' : 's'} from ${file.name}${r.skipped.length ? `, ${r.skipped.length} already watched` : ''}`, tone: 'info' });
      onImported();
    } catch (e) {
      toasts.show({ title: `Could not import ${file.name}`, body: (e as Error).message, tone: 'error' });
    }
  };
  return (
    <>
      <button
        onClick={() =>
          client.request('monitors.exportOpml', {}).then(
            (r) => download('panoptes-feeds.opml', r.opml, 'text/x-opml'),
            (e: Error) => toasts.show({ title: 'Could not export the feeds', body: e.message, tone: 'error' }),
          )
        }
      >
        Export feeds as OPML
      </button>
      <label className="button">
        Import OPML
        <input
          type="file"
          accept=".opml,.xml,text/xml,application/xml"
          className="visually-hidden"
          aria-label="Import feeds from an OPML file"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void importFile(f);
            e.target.value = '';
          }}
        />
      </label>
    </>
  );
}

function MonitorCard({ monitor: m, onEdit, onChanged, onRemoved }: { monitor: MonitorInfo; onEdit(): void; onChanged(m: MonitorInfo): void; onRemoved(): void }) {
  const client = useClient();
  const toasts = useToasts();
  const h = m.health;
  const fail = (e: Error) => toasts.show({ title: 'Could not change the monitor', body: e.message, tone: 'error' });
  return (
    <li className="card monitor-card" aria-label={`Monitor ${m.name}`}>
      <div className="card-head">
        <KindBadge of={m.type} />
        <div className="grow">
          <strong>{m.name}</strong> <code className="muted">{m.id}</code>
        </div>
        <span className={`status status-${m.enabled ? h.status : 'paused'}`}>{m.enabled ? h.status : 'paused'}</span>
      </div>
      <dl className="meta compact">
        {!m.enabled ? (
          <>
            <dt>Paused</dt>
            <dd>not checking until you resume it</dd>
          </>
        ) : null}
        {h.lastSuccess ? (
          <>
            <dt>Last success</dt>
            <dd>{timeAgo(h.lastSuccess)}</dd>
          </>
        ) : m.enabled ? (
          <>
            <dt>Last success</dt>
            <dd>none yet</dd>
          </>
        ) : null}
        {h.lastError ? (
          <>
            <dt>Last error</dt>
            <dd className="error-text">
              {h.lastError} <span className="muted">({dateTime(h.lastErrorAt)})</span>
            </dd>
          </>
        ) : null}
        {h.nextRetry ? (
          <>
            <dt>Next attempt</dt>
            <dd>{dateTime(h.nextRetry)}</dd>
          </>
        ) : null}
        {m.signedIn !== undefined ? (
          <>
            <dt>Signed in</dt>
            {m.signedIn === null ? (
              <dd className="muted">not signed in</dd>
            ) : m.signedIn.problem ? (
              <dd className="error-text">Sign in again ({m.signedIn.provider}): open Edit and press “Sign in”</dd>
            ) : (
              <dd>
                {m.signedIn.account ?? 'yes'} <span className="muted">({m.signedIn.provider})</span>
              </dd>
            )}
          </>
        ) : null}
        {m.retentionDays != null ? (
          <>
            <dt>Keeps events</dt>
            <dd>{m.retentionDays} days</dd>
          </>
        ) : null}
        {h.message ? (
          <>
            <dt>Status</dt>
            <dd>{h.message}</dd>
          </>
        ) : null}
      </dl>
      <div className="actions">
        <button
          disabled={!m.enabled}
          title={m.enabled ? 'Check the source now instead of waiting for the next scheduled check' : 'Resume the monitor first'}
          onClick={() =>
            client.request('monitors.checkNow', { id: m.id }).then(
              (r) => toasts.show({ title: r.started ? `Checking “${m.name}” now` : `“${m.name}” is not running, so it cannot check now`, tone: r.started ? 'info' : 'error' }),
              fail,
            )
          }
        >
          Check now
        </button>
        <button onClick={onEdit}>Edit</button>
        <button
          onClick={() => client.request('monitors.update', { id: m.id, enabled: !m.enabled }).then(onChanged, fail)}
        >
          {m.enabled ? 'Pause' : 'Resume'}
        </button>
        <button
          className="danger"
          onClick={() => {
            if (!confirm(`Remove the monitor “${m.name}”? Its stored events stay in the history.`)) return;
            client.request('monitors.remove', { id: m.id }).then(onRemoved, fail);
          }}
        >
          Remove
        </button>
      </div>
    </li>
  );
}

function MonitorForm({ editing, onDone, onOpen }: { editing: Editing; onDone(saved?: MonitorInfo): void; onOpen(id: string): void }) {
  const client = useClient();
  const toasts = useToasts();
  const existing = editing.mode === 'edit' ? editing.monitor : null;
  const { fields, values, setValues, errors, setErrors, formError, setFormError, busy, attempt } = useSchemaForm(editing.type.configSchema, existing?.config, (i) =>
    i.path ? `${i.path}: ${i.message}` : i.message,
  );
  const [name, setName] = useState(existing?.name ?? '');
  const [retention, setRetention] = useState(existing?.retentionDays != null ? String(existing.retentionDays) : '');
  const [testResult, setTestResult] = useState<PanoptesEvent[] | null>(null);
  /** Where the last test ran, when on another machine (and what its answer said of itself). */
  const [testOn, setTestOn] = useState<{ agentId: string; leftOut: number; verified: boolean } | null>(null);
  // Another monitor that already watches this source (the warning before adding it again).
  const [duplicate, setDuplicate] = useState<{ id: string; name: string } | null>(null);
  // OAuth: the engine keeps the sign-in; the form shows no input for it, only the sign-in panel when it applies.
  const oauth = editing.type.oauth ?? null;
  const formFields = oauth ? fields.filter((f) => f.name !== oauth.grantField) : fields;
  const showSignIn = oauth !== null && (!oauth.shownWhen || values[oauth.shownWhen.field] === oauth.shownWhen.equals);
  const [signInId, setSignInId] = useState<string | null>(null);
  // "Sign in" goes right after the last field it reads (provider, client id…), not at the end of a long form.
  const signInAfter = oauth ? Math.max(0, ...formFields.map((f, i) => (oauth.fields.includes(f.name) ? i + 1 : 0))) || formFields.length : formFields.length;
  const setFieldError = (field: string, message: string) =>
    setErrors((prev) => {
      const next = { ...prev, [field]: message };
      if (!message) delete next[field];
      return next;
    });
  // "Pick on the page" (types that declare a picker) goes in the box of the field it fills; not for another machine.
  const picker = editing.type.picker && !editing.remote ? editing.type.picker : null;
  const pickerExtras = picker
    ? {
        [picker.field]: (
          <PagePicker
            type={editing.type.type}
            config={() => buildConfig(formFields, values).config}
            onUse={(selector) => {
              setValues((prev) => ({ ...prev, [picker.field]: selector }));
              setFieldError(picker.field, '');
            }}
            onFieldError={setFieldError}
          />
        ),
      }
    : {};

  /**
   * The whole form at once: what the page can tell (empty, not a number) and, when that already found something, the
   * engine's schema on the rest (a pattern, a selector, a minimum), so every problem shows on the first try, not in
   * waves as each is fixed.
   */
  const lookup = useFieldLookup(
    editing.type,
    formFields,
    values,
    setValues,
    (field, message) =>
      setErrors((prev) => {
        const next = { ...prev };
        if (message) next[field] = message;
        else delete next[field];
        return next;
      }),
    existing?.config,
  );
  const extras = { ...lookup.extras, ...pickerExtras };

  /**
   * `anyway`: the monitor the user chose to watch the same source as ("Add anyway"); otherwise a save whose source
   * another monitor already watches stops at the warning.
   */
  const collect = async (purpose: 'save' | 'test', anyway?: string) => {
    // A place name (or another lookup field) with new text is looked up first; several matches wait for a choice.
    let vals = values;
    let lookupError: [string, string] | null = null;
    let waitForChoice = false;
    if (lookup.needed(vals)) {
      const r = await lookup.run(vals);
      if (r.outcome === 'failed') lookupError = [editing.type.lookup!.field, r.error];
      else vals = r.values;
      waitForChoice = r.outcome === 'choose';
    }
    const { config, errors: errs } = buildConfig(formFields, vals);
    const all = { ...errs };
    if (lookupError) all[lookupError[0]] = lookupError[1];
    if (!name.trim()) all['$name'] = 'Give the monitor a name';
    if (retention.trim() && !(Number.isInteger(Number(retention)) && Number(retention) >= 1)) all['$retention'] = 'A whole number of days (1 or more), or empty for the default';
    let sameAs: { id: string; name: string } | null = null;
    try {
      const r = await client.request('monitors.validate', { type: editing.type.type, config, ...(existing ? { id: existing.id } : {}) });
      // Another machine's monitors are not this engine's: whether they double one is not known here.
      if (!editing.remote) sameAs = r.sameAs ?? null;
      // The engine's word only when the page already found something (else the save's own check speaks, with the sign-in).
      if (Object.keys(all).length) {
        for (const i of r.issues) {
          const key = i.path.replace(/^\$\./, '').split(/[.[]/)[0] ?? '';
          const field = fields.find((f) => f.name === key);
          if (key in errs || !field) continue; // the page's own word on that field stands
          all[key] ??= fieldMessage(field, i.message);
        }
      }
    } catch {
      // An engine that cannot answer: the page's own findings are still shown.
    }
    setErrors(all);
    setFormError(null);
    const warn = purpose === 'save' && sameAs !== null && sameAs.id !== anyway && !Object.keys(all).length && !waitForChoice;
    setDuplicate(warn ? sameAs : null);
    return Object.keys(all).length || waitForChoice || warn ? null : config;
  };

  const test = async () => {
    const config = await collect('test');
    if (!config) return;
    setTestResult(null);
    await attempt('test', async () => {
      if (editing.remote) {
        // Runs on that machine (its files, its network, the secrets stored there): asked over the broker, answered by it.
        const r = await client.request('fleet.testMonitor', { agentId: editing.remote.agentId, monitor: { type: editing.type.type, config, ...(existing ? { id: existing.id } : {}) } });
        setTestResult(r.events);
        setTestOn({ agentId: editing.remote.agentId, leftOut: r.leftOut ?? 0, verified: r.verified });
        return;
      }
      // For an existing monitor the engine fills in its stored secrets, which the form never shows.
      const r = await client.request('monitors.test', { type: editing.type.type, config, ...(existing ? { id: existing.id } : {}), ...(signInId ? { signInId } : {}) });
      setTestResult(r.events);
      setTestOn(null);
    });
  };

  const save = async (anyway?: string) => {
    const config = await collect('save', anyway);
    if (!config) return;
    const remote = editing.remote;
    if (remote) {
      await attempt('save', async () => {
        await client.request('fleet.saveMonitor', { agentId: remote.agentId, monitor: { ...(existing ? { id: existing.id, enabled: existing.enabled } : {}), type: editing.type.type, name: name.trim(), config }, ifRevision: remote.revision });
        toasts.show({ title: `Sent “${name.trim()}” to ${remote.agentId}`, tone: 'info' });
        onDone();
      });
      return;
    }
    await attempt('save', async () => {
      const retentionDays = retention.trim() ? Number(retention) : null;
      let saved = existing
        ? await client.request('monitors.update', { id: existing.id, name: name.trim(), config, retentionDays })
        : await client.request('monitors.add', { type: editing.type.type, name: name.trim(), config, ...(signInId && showSignIn ? { signInId } : {}) });
      if (!existing && retentionDays !== null) saved = await client.request('monitors.update', { id: saved.id, retentionDays });
      toasts.show({ title: existing ? `Saved “${saved.name}”` : `Added “${saved.name}”`, tone: 'info' });
      onDone(saved);
    });
  };

  return (
    <div className="page">
      <div className="page-head">
        <h1>
          {existing ? `Edit ${existing.name}` : `Add ${editing.type.title} monitor`}
          {editing.remote ? ` on ${editing.remote.agentId}` : ''}
        </h1>
      </div>
      <p className="muted">{editing.type.description}</p>
      {editing.remote ? (
        <p className="muted">
          Sent to {editing.remote.agentId} as a signed change; it applies it when it is online. “Test now” runs there. Passwords and tokens are never sent over the broker: set them on that machine.
        </p>
      ) : null}
      {editing.type.routes.map((r) =>
        r.url ? (
          <p key={r.describe} className="muted route-address">
            Receives {r.describe} on this machine at <code>{r.url}</code>
          </p>
        ) : (
          <p key={r.describe} className="error route-address" role="status">
            This monitor cannot receive anything here: {r.problem ?? 'no server for it is running'}.
          </p>
        ),
      )}
      <form
        className="card form"
        aria-label={existing ? 'Edit monitor' : 'New monitor'}
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <div className="field">
          <label htmlFor="monitor-name">
            Name<span className="req" aria-hidden="true"> *</span>
          </label>
          <input
            id="monitor-name"
            value={name}
            required
            aria-invalid={errors.$name ? true : undefined}
            aria-describedby={errors.$name ? 'monitor-name-err' : undefined}
            placeholder="e.g. Hacker News"
            onChange={(e) => setName(e.target.value)}
          />
          {errors.$name ? (
            <div className="error" id="monitor-name-err" role="alert">
              {errors.$name}
            </div>
          ) : null}
        </div>
        <SchemaForm
          fields={showSignIn ? formFields.slice(0, signInAfter) : formFields}
          values={values}
          errors={errors}
          secretsSet={existing?.secretsSet}
          extras={extras}
          onChange={(n, v) => {
            lookup.changed(n);
            setValues((prev) => ({ ...prev, [n]: v }));
          }}
        />
        {showSignIn && !editing.remote ? (
          <SignInPanel
            type={editing.type}
            monitor={existing}
            config={() => buildConfig(formFields, values).config}
            onSignInId={setSignInId}
            onFieldError={(field, message) =>
              setErrors((prev) => {
                const next = { ...prev, [field]: message };
                if (!message) delete next[field];
                return next;
              })
            }
          />
        ) : null}
        {showSignIn ? (
          <SchemaForm
            fields={formFields.slice(signInAfter)}
            values={values}
            errors={errors}
            secretsSet={existing?.secretsSet}
            onChange={(n, v) => setValues((prev) => ({ ...prev, [n]: v }))}
            extras={extras}
          />
        ) : null}
        <div className="field">
          <label htmlFor="monitor-retention">Keep its events (days)</label>
          <input
            id="monitor-retention"
            type="number"
            min={1}
            value={retention}
            placeholder="default"
            aria-invalid={errors.$retention ? true : undefined}
            aria-describedby="monitor-retention-help"
            onChange={(e) => setRetention(e.target.value)}
          />
          <div className="help" id="monitor-retention-help">
            Older events of this monitor are deleted. Empty: the global retention from Settings.
          </div>
          {errors.$retention ? (
            <div className="error" role="alert">
              {errors.$retention}
            </div>
          ) : null}
        </div>
        {duplicate ? (
          <div className="help warn duplicate-warning" role="alert">
            Already watched by “{duplicate.name}”: another monitor of the same source doubles its events and notifications.{' '}
            <button type="button" onClick={() => onOpen(duplicate.id)}>
              Open it
            </button>{' '}
            <button type="button" onClick={() => void save(duplicate.id)}>
              {existing ? 'Save anyway' : 'Add anyway'}
            </button>
          </div>
        ) : null}
        <ErrorBox message={formError} />
        <FormActions busy={busy} saveLabel={editing.remote ? `Send to ${editing.remote.agentId}` : existing ? 'Save' : 'Add monitor'} testLabel="Test now" testingLabel="Testing…" onTest={() => void test()} onCancel={() => onDone()} />
      </form>
      {testResult ? (
        <section className="card" aria-label="Test result">
          <h2>
            Test{testOn ? ` on ${testOn.agentId}` : ''}: {testResult.length} event{testResult.length === 1 ? '' : 's'} right now
          </h2>
          <p className="muted">
            What the source holds now, as the monitor would report it{testOn ? `, run on ${testOn.agentId}` : ''}. Nothing was stored.
            {testOn && testOn.leftOut ? ` ${testOn.leftOut} more were left out to keep the answer under 1 MiB.` : ''}
            {testOn && !testOn.verified ? ` The answer is not verified: no key of ${testOn.agentId} is known here (upgrade it from here to have one).` : ''}
          </p>
          <ul className="plain-list">
            {testResult.slice(0, 50).map((e, i) => (
              <li key={e.id || i}>
                <strong>{e.title || '(no title)'}</strong> <span className="muted">{e.type} · {dateTime(e.ts)}</span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}
