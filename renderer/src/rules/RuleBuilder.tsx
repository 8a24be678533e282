/**
 * The point-and-click rule builder. The draft rule is one JSON value; the "Form" tab edits it field by field and
 * the "JSON" tab shows and edits the very same value. While the user edits, the engine validates the draft
 * (`rules.validate`) and each issue is shown next to the input its JSON path points at.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { PanoptesEvent } from '../../../core/event.js';
import type { MonitorInfo, ValidationIssue } from '../../../core/protocol.js';
import { useToasts } from '../components/Toasts.js';
import { dateTime } from '../lib/format.js';
import { useClient, useQuery, useMonitors } from '../state.js';
import { RequestError } from '../transport/client.js';
import { ActionsSection } from './ActionsEditor.js';
import { BuilderProvider, FieldList, Issues, TextInput, type Builder, type FieldSuggestion } from './context.js';
import { fieldId, fieldsOf, getIn, isObject, parseJsonPath, setIn, slugId, TOP_LEVEL_FIELDS, type Json, type Path } from './model.js';
import { ContextSection, LimitsSection, PatternSection, TriggerSection } from './sections.js';
import { TestPanel } from './TestPanel.js';

const VALIDATE_DELAY_MS = 300;
const SAMPLE_EVENTS = 25;

/**
 * `remote`: the rule is another machine's local rule (filtering at its source), sent there as a signed change
 * prepared from `revision`; its trigger names that machine's monitors, and there is no test against this machine's
 * history.
 */
export interface RemoteRuleTarget {
  agentId: string;
  revision: string;
  monitors: Pick<MonitorInfo, 'id' | 'name' | 'type'>[];
}

export function RuleBuilder({ initial, originalId, onDone, remote }: { initial: Json; originalId: string | null; onDone(savedId?: string): void; remote?: RemoteRuleTarget }) {
  const client = useClient();
  const toasts = useToasts();
  const [rule, setRule] = useState<Json>(initial);
  const [tab, setTab] = useState<'form' | 'json'>('form');
  const [jsonText, setJsonText] = useState('');
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [issues, setIssues] = useState<ValidationIssue[]>([]);
  const [warnings, setWarnings] = useState<ValidationIssue[]>([]);
  const [busy, setBusy] = useState(false);
  const [previewId, setPreviewId] = useState<string | null>(null);
  // A new rule's id follows its name until the user types an id of their own.
  const idTouched = useRef(originalId !== null);

  const types = useQuery('monitors.types', {});
  const monitors = useMonitors();
  const hello = useQuery('hello', {});
  const flags = useQuery('flags.list', {});
  const forwarding = useQuery('forwarding.get', {});
  const machines = useMemo(() => [...new Set((forwarding.data?.status.peers ?? []).map((p) => p.agentId))].sort(), [forwarding.data]);
  const whenType = getIn(rule, ['when', 'type']);
  const whenSource = getIn(rule, ['when', 'source']);
  const sampleKey = `${String(whenType)}|${String(whenSource)}`;
  const concrete = (v: Json | undefined) => (typeof v === 'string' && v && !/[*?]/.test(v) ? v : undefined);
  const samples = useQuery(
    'events.list',
    { limit: SAMPLE_EVENTS, ...(concrete(whenType) ? { type: concrete(whenType) } : {}), ...(concrete(whenSource) ? { source: concrete(whenSource) } : {}) },
    sampleKey,
  );
  const sampleEvents: PanoptesEvent[] = samples.data?.events ?? [];

  // Previews render on the chosen sample, or the newest event of the trigger's type.
  useEffect(() => {
    if (!sampleEvents.some((e) => e.id === previewId)) setPreviewId(sampleEvents[0]?.id ?? null);
  }, [sampleEvents, previewId]);

  const fields: FieldSuggestion[] = useMemo(() => {
    const docs = new Map<string, string>();
    for (const t of types.data ?? []) for (const ev of t.events) if (ev.type === whenType) for (const [k, d] of Object.entries(ev.fields)) docs.set(`fields.${k}`, d);
    const seen = fieldsOf(sampleEvents);
    const paths = [...new Set([...TOP_LEVEL_FIELDS, ...seen.keys(), ...docs.keys()])];
    return paths.map((p) => ({ path: p, ...(seen.has(p) ? { example: seen.get(p) } : {}), ...(docs.has(p) ? { doc: docs.get(p) } : {}) }));
  }, [types.data, whenType, sampleEvents]);

  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      client.request('rules.validate', { rule }).then(
        (r) => {
          if (!live) return;
          setIssues(r.errors);
          setWarnings(r.warnings ?? []);
        },
        () => {},
      );
    }, VALIDATE_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, rule]);

  const update = (path: Path, value: Json | undefined) => {
    setRule((prev) => {
      let next = setIn(prev, path, value) ?? {};
      if (path.length === 1 && path[0] === 'name' && !idTouched.current) next = setIn(next, ['id'], slugId(typeof value === 'string' ? value : '')) ?? next;
      if (path.length === 1 && path[0] === 'id') idTouched.current = true;
      return next;
    });
  };

  const builder: Builder = {
    rule,
    update,
    issues,
    warnings,
    fields,
    types: types.data ?? [],
    monitors: remote ? remote.monitors : (monitors.data ?? []),
    machines,
    previewEventId: previewId,
    clock: remote ? `${remote.agentId}’s clock` : `this machine’s clock${hello.data ? ` (${hello.data.timeZone})` : ''}`,
  };

  const showJson = () => {
    setJsonText(JSON.stringify(rule, null, 2));
    setJsonError(null);
    setTab('json');
  };
  const showForm = () => {
    if (jsonError) return;
    setTab('form');
  };
  const editJson = (text: string) => {
    setJsonText(text);
    try {
      const v = JSON.parse(text) as Json;
      if (!isObject(v)) throw new Error('a rule is a JSON object');
      setJsonError(null);
      setRule(v);
    } catch (e) {
      setJsonError((e as Error).message);
    }
  };

  const save = async () => {
    if (tab === 'json' && jsonError) return;
    setBusy(true);
    try {
      const newId = String(getIn(rule, ['id']) ?? '');
      // The rule as it was opened (none for a new id): the engine refuses the save when someone changed it meanwhile
      // (the CLI, an edit of config.json, another window), instead of silently undoing their change.
      if (remote) {
        // Refused (conflict) when the machine's configuration moved on since the list was read.
        const sent = await client.request('fleet.saveRule', { agentId: remote.agentId, rule, ifRevision: remote.revision });
        if (originalId && newId !== originalId) await client.request('fleet.removeRule', { agentId: remote.agentId, id: originalId, ifRevision: sent.revision });
        toasts.show({ title: `Sent rule “${String(getIn(rule, ['name']) ?? newId)}” to ${remote.agentId}`, tone: 'info' });
        onDone();
        return;
      }
      await client.request('rules.save', { rule, previous: originalId !== null && newId === originalId ? initial : null });
      // A changed id makes a new rule; remove the old one so it does not linger as a twin.
      if (originalId && newId !== originalId) await client.request('rules.remove', { id: originalId });
      toasts.show({ title: `Rule “${String(getIn(rule, ['name']) ?? newId)}” saved`, tone: 'info' });
      onDone(newId);
    } catch (e) {
      if (e instanceof RequestError && e.issues.length) setIssues(e.issues);
      else toasts.show({ title: 'Could not save the rule', body: (e as Error).message, tone: 'error' });
    } finally {
      setBusy(false);
    }
  };

  // An issue is said once: at its field when the form shows one for it, else in the summary above the form (the JSON
  // tab, or a path no input edits, such as an unknown key).
  const formRef = useRef<HTMLDivElement>(null);
  const [unplaced, setUnplaced] = useState<ValidationIssue[]>([]);
  useLayoutEffect(() => {
    const root = formRef.current;
    const atField = (i: ValidationIssue) => tab === 'form' && !!root?.querySelector(`[data-issue-path="${CSS.escape(i.path)}"]`);
    const next = issues.filter((i) => !atField(i));
    setUnplaced((prev) => (prev.length === next.length && prev.every((p, n) => p === next[n]) ? prev : next));
  });

  const focusIssue = (i: ValidationIssue) => {
    const path = parseJsonPath(i.path);
    if (tab === 'json' || !path) return;
    // The closest input for the path: the exact one, else the nearest parent that has an input.
    for (let n = path.length; n >= 0; n--) {
      const el = document.getElementById(fieldId(path.slice(0, n)));
      if (el) {
        el.focus();
        el.scrollIntoView({ block: 'center' });
        return;
      }
    }
  };

  return (
    <BuilderProvider value={builder}>
      <div className="page rule-builder">
        <div className="page-head">
          <h1>
            {originalId ? `Edit rule ${originalId}` : 'New rule'}
            {remote ? ` on ${remote.agentId}` : ''}
          </h1>
          <div className="tabs" role="tablist" aria-label="Editor">
            <button role="tab" type="button" aria-selected={tab === 'form'} onClick={showForm} disabled={tab === 'json' && jsonError !== null}>
              Form
            </button>
            <button role="tab" type="button" aria-selected={tab === 'json'} onClick={showJson}>
              JSON
            </button>
          </div>
        </div>
        <FieldList />
        <datalist id="rb-monitor-ids">
          {(monitors.data ?? []).map((m) => (
            <option key={m.id} value={m.id}>
              {m.name}
            </option>
          ))}
        </datalist>
        <datalist id="rb-flag-names">
          {(flags.data ?? []).map((f) => (
            <option key={f.name} value={f.name} />
          ))}
        </datalist>
        <IssueSummary issues={unplaced} onPick={focusIssue} />
        {tab === 'form' ? (
          <div className="rb-form" ref={formRef}>
            <section className="card rb-section" aria-label="Rule">
              <div className="rb-row">
                <TextInput path={['name']} label="Name" placeholder="e.g. Tell me about releases" className="rb-grow" />
                <TextInput path={['id']} label="Id" mono keepEmpty className="rb-narrow" />
                <label className="check rb-enabled">
                  <input type="checkbox" checked={getIn(rule, ['enabled']) !== false} onChange={(e) => update(['enabled'], e.target.checked)} />
                  Enabled
                </label>
              </div>
              <TextInput path={['description']} label="Description (optional)" />
              <Issues path={[]} />
            </section>
            <TriggerSection />
            <ContextSection />
            <PatternSection />
            <LimitsSection />
            <section className="card rb-section" aria-label="Preview event">
              <div className="rb-row">
                <label htmlFor="rb-preview-event">Templates preview on</label>
                <select id="rb-preview-event" className="rb-grow" value={previewId ?? ''} onChange={(e) => setPreviewId(e.target.value || null)}>
                  {sampleEvents.length === 0 ? <option value="">the newest stored event</option> : null}
                  {sampleEvents.map((e) => (
                    <option key={e.id} value={e.id}>
                      {e.title || '(no title)'} — {e.source}, {dateTime(e.ts)}
                    </option>
                  ))}
                </select>
              </div>
              <p className="muted small">
                Templates are Liquid: <code>{'{{ title }}'}</code>, <code>{'{{ fields.NAME }}'}</code>, <code>{'{{ count }}'}</code>,{' '}
                <code>{'{{ title | upcase }}'}</code>…
              </p>
            </section>
            <ActionsSection />
          </div>
        ) : (
          <div className="rb-json">
            <label htmlFor="rule-json" className="visually-hidden">
              Rule JSON
            </label>
            <textarea
              id="rule-json"
              className="mono code-editor"
              spellCheck={false}
              rows={24}
              value={jsonText}
              aria-invalid={jsonError ? true : undefined}
              onChange={(e) => editJson(e.target.value)}
            />
            {jsonError ? <div className="error-box">JSON: {jsonError}</div> : null}
          </div>
        )}
        {remote ? (
          <p className="help">
            Sent to {remote.agentId} as a signed change: its own engine runs the rule on the events made there, before anything is forwarded. It applies the change when it is online.
          </p>
        ) : (
          <TestPanel rule={rule} />
        )}
        <div className="actions rb-footer">
          <button className="primary" type="button" onClick={() => void save()} disabled={busy || (tab === 'json' && jsonError !== null)}>
            {busy ? 'Saving…' : remote ? `Send to ${remote.agentId}` : 'Save rule'}
          </button>
          <button type="button" onClick={() => onDone()}>
            Cancel
          </button>
          <span className="muted small" aria-live="polite">
            {issues.length ? (
              // Each problem stands at its field; this takes the user to the first one, wherever the form is scrolled.
              <button type="button" className="link-button" onClick={() => focusIssue(issues[0]!)}>
                {`${issues.length} problem${issues.length === 1 ? '' : 's'} to fix`}
              </button>
            ) : (
              'The engine accepts this rule.'
            )}
          </span>
        </div>
      </div>
    </BuilderProvider>
  );
}

function IssueSummary({ issues, onPick }: { issues: ValidationIssue[]; onPick(i: ValidationIssue): void }) {
  if (!issues.length) return null;
  return (
    <div className="error-box rb-summary" role="alert" aria-label="Problems">
      <strong>The engine would not accept this rule yet:</strong>
      <ul>
        {issues.map((i, n) => (
          <li key={n}>
            <button type="button" className="link-button" onClick={() => onPick(i)}>
              <code>{i.path}</code>
            </button>{' '}
            {i.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
