import { useState } from 'react';
import type { ValidationIssue } from '../../../core/protocol.js';
import { useToasts } from '../components/Toasts.js';
import { download } from '../lib/exportFile.js';
import { useClient, usePush, useQuery } from '../state.js';
import { RequestError } from '../transport/client.js';

/** The part of a rule this view reads; everything else is edited as JSON and passed through untouched. */
interface RuleLike {
  id: string;
  name?: string;
  enabled?: boolean;
  when?: { source?: string; type?: string };
  then?: unknown[];
  [k: string]: unknown;
}

function asRule(x: unknown): RuleLike {
  return x && typeof x === 'object' && typeof (x as RuleLike).id === 'string' ? (x as RuleLike) : { id: '?' };
}

const NEW_RULE = {
  id: 'new-rule',
  name: 'New rule',
  enabled: true,
  when: { type: 'feed.item' },
  if: { all: [{ field: 'title', contains: 'release' }] },
  then: [{ notify: { title: '{{ title }}', body: '{{ source }}', url: '{{ url }}' } }],
};

export function RulesView() {
  const client = useClient();
  const toasts = useToasts();
  const rules = useQuery('rules.list', {});
  const [editing, setEditing] = useState<{ originalId: string | null; text: string } | null>(null);
  const [removed, setRemoved] = useState<RuleLike | null>(null);

  usePush('rules', () => rules.reload());

  const fail = (title: string) => (e: Error) => toasts.show({ title, body: e.message, tone: 'error' });

  const toggle = (r: RuleLike) =>
    client.request('rules.save', { rule: { ...r, enabled: r.enabled === false } }).then(() => rules.reload(), fail('Could not change the rule'));

  const remove = (r: RuleLike) =>
    client.request('rules.remove', { id: r.id }).then(() => {
      setRemoved(r);
      rules.reload();
    }, fail('Could not delete the rule'));

  const undo = () => {
    if (!removed) return;
    client.request('rules.save', { rule: removed }).then(() => {
      setRemoved(null);
      rules.reload();
    }, fail('Could not restore the rule'));
  };

  const importFile = async (file: File) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await file.text());
    } catch (e) {
      toasts.show({ title: `${file.name} is not valid JSON`, body: (e as Error).message, tone: 'error' });
      return;
    }
    const list = Array.isArray(parsed) ? parsed : [parsed];
    let ok = 0;
    const problems: string[] = [];
    for (const r of list) {
      try {
        await client.request('rules.save', { rule: r });
        ok++;
      } catch (e) {
        problems.push(`${asRule(r).id}: ${(e as Error).message}`);
      }
    }
    rules.reload();
    toasts.show({ title: `Imported ${ok} of ${list.length} rules`, body: problems.join('\n') || undefined, tone: problems.length ? 'error' : 'info' });
  };

  if (editing)
    return (
      <RuleJsonEditor
        initial={editing.text}
        originalId={editing.originalId}
        onDone={() => {
          setEditing(null);
          rules.reload();
        }}
      />
    );

  const list = (rules.data?.rules ?? []).map(asRule);
  const errors = rules.data?.errors ?? [];
  return (
    <div className="page">
      <div className="page-head">
        <h1>Rules</h1>
        <button className="primary" onClick={() => setEditing({ originalId: null, text: JSON.stringify(NEW_RULE, null, 2) })}>
          New rule
        </button>
        <button onClick={() => download('panoptes-rules.json', JSON.stringify(rules.data?.rules ?? [], null, 2), 'application/json')}>Export</button>
        <label className="button">
          Import
          <input
            type="file"
            accept="application/json,.json"
            className="visually-hidden"
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void importFile(f);
              e.target.value = '';
            }}
          />
        </label>
      </div>
      {removed ? (
        <div className="undo-bar" role="status">
          Deleted “{removed.name ?? removed.id}”. <button onClick={undo}>Undo</button>
          <button className="icon-button" aria-label="Dismiss" onClick={() => setRemoved(null)}>
            ×
          </button>
        </div>
      ) : null}
      {rules.error ? <div className="error-box" role="alert">{rules.error.message}</div> : null}
      {errors.length ? (
        <div className="error-box" role="alert">
          <strong>Some rules are not loaded:</strong>
          <ul>
            {errors.map((e, i) => (
              <li key={i}>
                {e.ruleId ? <code>{e.ruleId}</code> : null} <code>{e.path}</code> {e.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {rules.data && !list.length ? <div className="empty">No rules yet. A rule turns events into notifications, flags and other actions.</div> : null}
      <ul className="card-list" aria-label="Rules">
        {list.map((r) => (
          <li key={r.id} className={`card rule-card ${r.enabled === false ? 'disabled' : ''}`} aria-label={`Rule ${r.name ?? r.id}`}>
            <div className="card-head">
              <label className="switch">
                <input type="checkbox" checked={r.enabled !== false} onChange={() => void toggle(r)} aria-label={`Enabled: ${r.name ?? r.id}`} />
                <span aria-hidden="true" />
              </label>
              <div className="grow">
                <strong>{r.name ?? r.id}</strong> <code className="muted">{r.id}</code>
                <div className="muted small">
                  when {r.when?.type ?? 'any type'} from {r.when?.source ?? 'any source'} → {(r.then ?? []).map((a) => Object.keys(a as object)[0]).join(', ') || 'no action'}
                </div>
              </div>
              <button onClick={() => setEditing({ originalId: r.id, text: JSON.stringify(r, null, 2) })}>Edit JSON</button>
              <button
                onClick={() => {
                  const copy = { ...r, id: `${r.id}-copy`, name: `${r.name ?? r.id} (copy)` };
                  setEditing({ originalId: null, text: JSON.stringify(copy, null, 2) });
                }}
              >
                Duplicate
              </button>
              <button className="danger" onClick={() => void remove(r)}>
                Delete
              </button>
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}

function RuleJsonEditor({ initial, originalId, onDone }: { initial: string; originalId: string | null; onDone(): void }) {
  const client = useClient();
  const toasts = useToasts();
  const [text, setText] = useState(initial);
  const [issues, setIssues] = useState<ValidationIssue[] | null>(null);
  const [parseError, setParseError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const parse = (): unknown | undefined => {
    try {
      const v = JSON.parse(text) as unknown;
      setParseError(null);
      return v;
    } catch (e) {
      setParseError((e as Error).message);
      setIssues(null);
      return undefined;
    }
  };

  const validate = async () => {
    const rule = parse();
    if (rule === undefined) return false;
    setBusy(true);
    try {
      const r = await client.request('rules.validate', { rule });
      setIssues(r.errors);
      return r.ok;
    } catch (e) {
      setIssues([{ path: '', message: (e as Error).message }]);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const save = async () => {
    const rule = parse();
    if (rule === undefined) return;
    setBusy(true);
    try {
      await client.request('rules.save', { rule });
      const newId = asRule(rule).id;
      // Renaming the id in JSON makes a new rule; remove the old one so it does not linger as a twin.
      if (originalId && newId !== originalId) await client.request('rules.remove', { id: originalId });
      toasts.show({ title: 'Rule saved', tone: 'info' });
      onDone();
    } catch (e) {
      setIssues(e instanceof RequestError && e.issues.length ? e.issues : [{ path: '', message: (e as Error).message }]);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page">
      <div className="page-head">
        <h1>{originalId ? `Edit rule ${originalId}` : 'New rule'}</h1>
      </div>
      <p className="muted">
        The rule as JSON, exactly as it is stored. See <code>docs/rules.md</code> for every field.
      </p>
      <label htmlFor="rule-json" className="visually-hidden">
        Rule JSON
      </label>
      <textarea
        id="rule-json"
        className="mono code-editor"
        spellCheck={false}
        value={text}
        rows={24}
        aria-invalid={parseError || (issues && issues.length) ? true : undefined}
        aria-describedby="rule-json-status"
        onChange={(e) => {
          setText(e.target.value);
          setIssues(null);
        }}
      />
      <div id="rule-json-status" aria-live="polite">
        {parseError ? <div className="error-box">JSON: {parseError}</div> : null}
        {issues && issues.length ? (
          <div className="error-box" role="alert">
            <ul>
              {issues.map((i, n) => (
                <li key={n}>
                  {i.path ? <code>{i.path}</code> : null} {i.message}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        {issues && !issues.length ? <div className="ok-box">The rule is valid.</div> : null}
      </div>
      <div className="actions">
        <button className="primary" onClick={() => void save()} disabled={busy}>
          Save
        </button>
        <button onClick={() => void validate()} disabled={busy}>
          Validate
        </button>
        <button onClick={onDone}>Cancel</button>
      </div>
    </div>
  );
}
