/**
 * The rule's actions (`then`), one card per action, every kind of the format with its own small form. Template
 * fields show a live preview: the engine renders the Liquid template on a real recent event (`rules.preview`),
 * exactly as a firing would, so a typo in `{{ fields.temprature }}` shows up as an empty preview right away.
 */
import { useEffect, useState } from 'react';
import { useClient, useQuery } from '../state.js';
import { ListValue } from './ConditionEditor.js';
import { CheckInput, Issues, NumberInput, SelectInput, TextInput, useBuilder, useIssues, Warnings } from './context.js';
import { ACTION_KINDS, ACTION_LABELS, actionKind, fieldId, getIn, isObject, newAction, type ActionKind, type Json, type Path } from './model.js';

const PREVIEW_DELAY_MS = 250;

export function ActionsSection() {
  const b = useBuilder();
  const then = getIn(b.rule, ['then']);
  const list = Array.isArray(then) ? then : [];
  const [adding, setAdding] = useState<ActionKind>('notify');
  const move = (i: number, d: number) => {
    const next = list.slice();
    const [a] = next.splice(i, 1);
    next.splice(i + d, 0, a as Json);
    b.update(['then'], next);
  };
  return (
    <section className="card rb-section" aria-label="Actions">
      <h2>Then</h2>
      {list.length === 0 ? <p className="muted">No action yet: a rule needs at least one.</p> : null}
      <ol className="rb-actions">
        {list.map((a, i) => {
          const kind = actionKind(a);
          return (
            <li key={i} className="rb-action" aria-label={`Action ${i + 1}: ${kind ? ACTION_LABELS[kind] : 'unknown'}`}>
              <div className="rb-row">
                <strong className="grow">
                  {i + 1}. {kind ? ACTION_LABELS[kind] : `Unknown action (${Object.keys(isObject(a) ? a : {}).join(', ')}) — edit it in the JSON tab`}
                </strong>
                <button type="button" className="small" disabled={i === 0} onClick={() => move(i, -1)} aria-label={`Move action ${i + 1} up`}>
                  ↑
                </button>
                <button type="button" className="small" disabled={i === list.length - 1} onClick={() => move(i, 1)} aria-label={`Move action ${i + 1} down`}>
                  ↓
                </button>
                <button type="button" className="small danger" onClick={() => b.update(['then', i], undefined)} aria-label={`Remove action ${i + 1}`}>
                  Remove
                </button>
              </div>
              {kind ? <ActionForm kind={kind} path={['then', i, kind]} /> : null}
              <Issues path={['then', i]} />
            </li>
          );
        })}
      </ol>
      <div className="rb-row">
        <label htmlFor="rb-add-action" className="visually-hidden">
          Action to add
        </label>
        <select id="rb-add-action" value={adding} onChange={(e) => setAdding(e.target.value as ActionKind)}>
          {ACTION_KINDS.map((k) => (
            <option key={k} value={k}>
              {ACTION_LABELS[k]}
            </option>
          ))}
        </select>
        <button type="button" onClick={() => b.update(['then', list.length], newAction(adding))}>
          Add action
        </button>
      </div>
      <Issues path={['then']} />
    </section>
  );
}

/** Which channels this rule's notifications reach, by the routing in Settings → Notifications. */
function RouteHint({ path }: { path: Path }) {
  const b = useBuilder();
  const client = useClient();
  const ruleId = String(getIn(b.rule, ['id']) ?? '');
  const priority = String(getIn(b.rule, [...path, 'priority']) ?? 'normal');
  const [text, setText] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    client.request('notifications.routeOf', { ...(ruleId ? { ruleId } : {}), priority: priority as 'normal' }).then(
      (r) => {
        if (!live) return;
        const names = r.channels.map((c) => c.name);
        setText(`${names.length ? `Reaches: ${names.join(', ')}` : 'Reaches no channel at this priority'}${r.fallback ? `; if one fails: ${r.fallback.name}` : ''} (Settings → Notifications → Routing)`);
      },
      () => live && setText(null),
    );
    return () => {
      live = false;
    };
  }, [client, ruleId, priority]);
  return text ? (
    <div className="help route-hint" role="note">
      {text}
    </div>
  ) : null;
}

/**
 * Where this rule's notifications go and how they treat Do not disturb and quiet hours, saved in the rule's `notify`
 * (`channels`, `throughHolds`); the engine checks the channels when the rule is validated.
 */
function RoutingEditor({ path }: { path: Path }) {
  const b = useBuilder();
  const channels = useQuery('notifications.channels', {});
  const chosen = getIn(b.rule, [...path, 'channels']);
  const own = Array.isArray(chosen);
  const list = own ? (chosen as Json[]).map(String) : [];
  const through = getIn(b.rule, [...path, 'throughHolds']);
  const id = fieldId([...path, 'channels']);
  const known = channels.data ?? [];
  // A channel the rule names that is not set up (any more) stays visible, so it can be unticked.
  const shown = [...known, ...list.filter((c) => !known.some((k) => k.id === c)).map((c) => ({ id: c, name: `${c} (not set up)`, builtIn: false, type: 'unknown' }))];
  return (
    <fieldset className="rb-subgroup rb-routing" aria-label="Where it goes">
      <legend className="small muted">Where it goes</legend>
      <label className="check">
        <input type="radio" name={`${id}-mode`} checked={!own} onChange={() => b.update([...path, 'channels'], undefined)} />
        The channels of its priority (Settings → Notifications → Routing)
      </label>
      <label className="check">
        <input type="radio" name={`${id}-mode`} checked={own} onChange={() => b.update([...path, 'channels'], ['desktop', 'ui'])} />
        Only these channels:
      </label>
      {own ? (
        <div className="rb-row" role="group" aria-label="Channels of this rule">
          {shown.map((c) => (
            <label key={c.id} className="check inline">
              <input
                type="checkbox"
                checked={list.includes(c.id)}
                onChange={(e) => b.update([...path, 'channels'], e.target.checked ? [...list, c.id] : list.filter((x) => x !== c.id))}
              />
              {c.name}
            </label>
          ))}
        </div>
      ) : null}
      <Issues path={[...path, 'channels']} deep />
      <div className="rb-field">
        <label htmlFor={fieldId([...path, 'throughHolds'])}>During Do not disturb and quiet hours</label>
        <select
          id={fieldId([...path, 'throughHolds'])}
          value={through === true ? 'through' : through === false ? 'held' : ''}
          onChange={(e) => b.update([...path, 'throughHolds'], e.target.value === 'through' ? true : e.target.value === 'held' ? false : undefined)}
        >
          <option value="">as the settings say (high and urgent may go through)</option>
          <option value="through">always goes through</option>
          <option value="held">always held, even urgent (summarised after)</option>
        </select>
        <Issues path={[...path, 'throughHolds']} />
      </div>
      {own ? null : <RouteHint path={path} />}
    </fieldset>
  );
}

function ActionForm({ kind, path }: { kind: ActionKind; path: Path }) {
  switch (kind) {
    case 'notify':
      return (
        <>
          <TemplateField path={[...path, 'title']} label="Notification title" />
          <TemplateField path={[...path, 'body']} label="Notification body" multiline />
          <TemplateField path={[...path, 'url']} label="Link" />
          <div className="rb-row">
            <SelectInput
              path={[...path, 'priority']}
              label="Priority"
              allowEmpty="normal"
              options={[
                { value: 'low', label: 'low' },
                { value: 'high', label: 'high (stays, breaks through holds)' },
                { value: 'urgent', label: 'urgent (breaks through holds; route it to your phone)' },
              ]}
            />
            <CheckInput path={[...path, 'sound']} label="Play a sound" />
            <CheckInput path={[...path, 'own']} label="Its own notification (not merged with other rules' for the same event)" />
          </div>
          <RoutingEditor path={path} />
        </>
      );
    case 'flag':
      return <FlagForm path={path} />;
    case 'tag':
      return <ListValue path={[...path, 'add']} label="Tags to add (comma-separated)" placeholder="important, work" />;
    case 'webhook':
      return (
        <>
          <TemplateField path={[...path, 'url']} label="URL" />
          <div className="rb-row">
            <SelectInput path={[...path, 'method']} label="Method" allowEmpty="POST" options={['GET', 'PUT', 'PATCH', 'DELETE'].map((m) => ({ value: m, label: m }))} />
            <NumberInput path={[...path, 'timeoutMs']} label="Timeout (ms)" min={100} max={120000} />
          </div>
          <HeadersForm path={[...path, 'headers']} />
          <TemplateField path={[...path, 'body']} label="Body" multiline />
        </>
      );
    case 'command':
      return <ArgvForm path={path} />;
    case 'chat':
      return (
        <>
          <TextInput path={[...path, 'network']} label="Network (the id of an IRC or chat monitor)" keepEmpty list="rb-monitor-ids" />
          <TemplateField path={[...path, 'target']} label="Channel or nick" />
          <TemplateField path={[...path, 'text']} label="Message" />
        </>
      );
    case 'email':
      return (
        <>
          <TemplateField path={[...path, 'to']} label="To" />
          <TemplateField path={[...path, 'subject']} label="Subject" />
          <TemplateField path={[...path, 'body']} label="Body" multiline />
          <TextInput path={[...path, 'account']} label="Send through (mail monitor id, optional)" list="rb-monitor-ids" />
        </>
      );
    case 'mqtt':
      return (
        <>
          <TemplateField path={[...path, 'topic']} label="Topic" />
          <TemplateField path={[...path, 'payload']} label="Payload" multiline />
          <div className="rb-row">
            <CheckInput path={[...path, 'retain']} label="Retain" />
            <QosSelect path={[...path, 'qos']} />
          </div>
        </>
      );
    case 'stop':
      return <p className="muted small">Rules after this one do not see events this rule fired on.</p>;
  }
}

function FlagForm({ path }: { path: Path }) {
  const b = useBuilder();
  const f = getIn(b.rule, path);
  const obj = isObject(f) ? f : {};
  const op = (['set', 'clear', 'toggle'] as const).find((k) => k in obj) ?? 'set';
  const id = fieldId([...path, 'op']);
  return (
    <div className="rb-row">
      <div className="rb-field">
        <label htmlFor={id}>Flag action</label>
        <select
          id={id}
          value={op}
          onChange={(e) => {
            const to = e.target.value;
            const name = obj[op] ?? '';
            b.update(path, { [to]: name, ...(to === 'set' && obj.for !== undefined ? { for: obj.for } : {}) });
          }}
        >
          <option value="set">set</option>
          <option value="clear">clear</option>
          <option value="toggle">toggle</option>
        </select>
      </div>
      <TextInput path={[...path, op]} label="Flag" mono keepEmpty list="rb-flag-names" />
      {op === 'set' ? <TextInput path={[...path, 'for']} label="For (optional)" placeholder="e.g. 30m" className="rb-narrow" /> : null}
    </div>
  );
}

function QosSelect({ path }: { path: Path }) {
  const b = useBuilder();
  const v = getIn(b.rule, path);
  const id = fieldId(path);
  return (
    <div className="rb-field">
      <label htmlFor={id}>QoS</label>
      <select id={id} value={typeof v === 'number' ? String(v) : ''} onChange={(e) => b.update(path, e.target.value === '' ? undefined : Number(e.target.value))}>
        <option value="">0 (default)</option>
        <option value="1">1</option>
        <option value="2">2</option>
      </select>
      <Issues path={path} />
    </div>
  );
}

function HeadersForm({ path }: { path: Path }) {
  const b = useBuilder();
  const h = getIn(b.rule, path);
  const entries = isObject(h) ? Object.entries(h) : [];
  const rename = (from: string, to: string) => {
    const next: Record<string, Json> = {};
    for (const [k, v] of entries) next[k === from ? to : k] = v;
    b.update(path, next);
  };
  return (
    <div role="group" aria-label="Headers" className="rb-subgroup">
      <div className="small muted">Headers</div>
      {entries.map(([name], i) => (
        <div className="rb-row" key={i}>
          <label htmlFor={`${fieldId(path)}-${i}`} className="visually-hidden">
            Header name
          </label>
          <input id={`${fieldId(path)}-${i}`} className="mono" value={name} onChange={(e) => rename(name, e.target.value)} />
          <TextInput path={[...path, name]} label={`Value of ${name}`} hideLabel keepEmpty className="rb-grow" />
          <button type="button" className="small danger" aria-label={`Remove header ${name}`} onClick={() => b.update([...path, name], undefined)}>
            ×
          </button>
        </div>
      ))}
      <button type="button" className="small" onClick={() => b.update([...path, entries.some(([k]) => k === 'X-Panoptes') ? `X-Header-${entries.length + 1}` : 'X-Panoptes'], '')}>
        + Header
      </button>
      <Issues path={path} deep />
    </div>
  );
}

/** The command is an argument list (no shell): one input per argument, each a template. */
function ArgvForm({ path }: { path: Path }) {
  const b = useBuilder();
  const argv = getIn(b.rule, [...path, 'argv']);
  const list = Array.isArray(argv) ? argv : [];
  return (
    <div role="group" aria-label="Command" className="rb-subgroup">
      <p className="muted small">Runs without a shell, one argument per line. Commands are off until enabled in Settings.</p>
      {list.map((_, i) => (
        <div className="rb-row" key={i}>
          <TextInput path={[...path, 'argv', i]} label={i === 0 ? 'Program' : `Argument ${i}`} mono keepEmpty className="rb-grow" />
          <button type="button" className="small danger" aria-label={`Remove argument ${i}`} disabled={list.length <= 1} onClick={() => b.update([...path, 'argv', i], undefined)}>
            ×
          </button>
        </div>
      ))}
      <div className="rb-row">
        <button type="button" className="small" onClick={() => b.update([...path, 'argv', list.length], '')}>
          + Argument
        </button>
        <NumberInput path={[...path, 'timeoutMs']} label="Timeout (ms)" min={100} max={3600000} />
      </div>
      <Issues path={[...path, 'argv']} deep />
      <Warnings path={[...path, 'argv']} />
    </div>
  );
}

/** A Liquid template input with the engine's rendering of it on the preview event right below. */
export function TemplateField({ path, label, multiline }: { path: Path; label: string; multiline?: boolean }) {
  const b = useBuilder();
  const client = useClient();
  const id = fieldId(path);
  const raw = getIn(b.rule, path);
  const value = typeof raw === 'string' ? raw : '';
  const bad = useIssues(path).length > 0;
  const [preview, setPreview] = useState<{ text: string; error: string | null } | null>(null);

  useEffect(() => {
    if (!value) {
      setPreview(null);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      client.request('rules.preview', { template: value, ...(b.previewEventId ? { eventId: b.previewEventId } : {}) }).then(
        (r) => live && setPreview({ text: r.text, error: r.error }),
        (e: Error) => live && setPreview({ text: '', error: e.message }),
      );
    }, PREVIEW_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, value, b.previewEventId]);

  const props = {
    id,
    className: 'mono',
    value,
    spellCheck: false,
    'aria-invalid': bad || undefined,
    'aria-describedby': `${id}-preview${bad ? ` ${id}-err` : ''}`,
  };
  return (
    <div className="rb-field rb-template">
      <label htmlFor={id}>{label}</label>
      {multiline ? (
        <textarea {...props} rows={3} onChange={(e) => b.update(path, e.target.value === '' ? undefined : e.target.value)} />
      ) : (
        <input {...props} onChange={(e) => b.update(path, e.target.value === '' ? undefined : e.target.value)} />
      )}
      <div className="rb-preview" id={`${id}-preview`} aria-live="polite" aria-label={`Preview of ${label}`} role="status">
        {preview ? (
          preview.error ? (
            <span className="error-text">{preview.error}</span>
          ) : (
            <>
              <span className="muted small">Preview: </span>
              <span className="rb-preview-text">{preview.text || <em className="muted">(empty)</em>}</span>
            </>
          )
        ) : null}
      </div>
      <Issues path={path} id={id + '-err'} />
    </div>
  );
}
