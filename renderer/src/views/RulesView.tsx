import { useEffect, useMemo, useRef, useState } from 'react';
import { useToasts } from '../components/Toasts.js';
import { download } from '../lib/exportFile.js';
import { dateTime } from '../lib/format.js';
import { NEW_RULE, type Json } from '../rules/model.js';
import { RuleBuilder, type RemoteRuleTarget } from '../rules/RuleBuilder.js';
import { MachineSwitch, usePairedMachines } from '../fleet/MachineSwitch.js';
import { RemoteRules } from '../fleet/RemoteRules.js';
import { EventTitles, TraceView } from '../rules/TraceView.js';
import { isDefaultRule, overlappingDefaults, ruleSummary, type RuleLike } from '../rules/ruleSummary.js';
import { useClient, usePush, useQuery } from '../state.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { NoMatch } from '../components/NoMatch.js';
import { ANY_TYPE, filterChoices, isFiltering, NO_FILTER, ruleMatches, THIS_MACHINE, type RuleFilter } from '../rules/ruleFilter.js';
import { useShortcuts } from '../lib/keys.js';

function asRule(x: unknown): RuleLike {
  return x && typeof x === 'object' && typeof (x as RuleLike).id === 'string' ? (x as RuleLike) : { id: '?' };
}

export function RulesView() {
  const client = useClient();
  const toasts = useToasts();
  const rules = useQuery('rules.list', {});
  // `remote`: a rule of another machine's, sent there as a signed change (engine/fleet/).
  const [editing, setEditing] = useState<{ originalId: string | null; rule: Json; remote?: RemoteRuleTarget } | null>(null);
  // Whose rules are shown: this machine's (null) or an agent's deployed from here.
  const [machine, setMachine] = useState<string | null>(null);
  const machines = usePairedMachines();
  const [firingsOf, setFiringsOf] = useState<string | null>(null);
  const [removed, setRemoved] = useState<RuleLike | null>(null);

  usePush('rules', () => rules.reload());

  // Search and filters (kept while editing a rule, so Back returns to the same list).
  const [filter, setFilter] = useState<RuleFilter>(NO_FILTER);
  const searchRef = useRef<HTMLInputElement>(null);
  useShortcuts({ '/': () => searchRef.current?.focus() });
  const all = useMemo(() => (rules.data?.rules ?? []).map(asRule), [rules.data]);
  const choices = useMemo(() => filterChoices(all, machines), [all, machines]);
  const filtering = isFiltering(filter);
  const set = (patch: Partial<RuleFilter>) => setFilter((f) => ({ ...f, ...patch }));

  // A saved rule is shown where it landed (new rules go after the others, often below the fold): scrolled to and
  // marked for a moment.
  const [justSaved, setJustSaved] = useState<string | null>(null);
  useEffect(() => {
    if (!justSaved || !rules.data) return;
    const card = document.querySelector(`[data-rule-id="${CSS.escape(justSaved)}"]`);
    // A saved rule the filters hide is shown anyway: the filters give way.
    if (!card && filtering) return setFilter(NO_FILTER);
    card?.scrollIntoView({ block: 'center' });
    const t = setTimeout(() => setJustSaved(null), 4_000);
    return () => clearTimeout(t);
  }, [justSaved, rules.data, filtering]);

  const fail = (title: string) => (e: Error) => toasts.show({ title, body: e.message, tone: 'error' });

  const toggle = (r: RuleLike) =>
    client.request('rules.save', { rule: { ...r, enabled: r.enabled === false }, previous: r }).then(() => rules.reload(), fail('Could not change the rule'));

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

  // Order matters (a rule's "stop" hides the event from the rules after it): moving saves the new order, as ids.
  const move = async (i: number, d: number) => {
    const all = (rules.data?.rules ?? []).slice();
    const [r] = all.splice(i, 1);
    all.splice(i + d, 0, r);
    rules.set((prev) => ({ rules: all, errors: prev?.errors ?? [], revision: prev?.revision ?? '' }));
    try {
      await client.request('rules.reorder', { ids: all.map((x) => asRule(x).id) });
    } catch (e) {
      fail('Could not reorder the rules')(e as Error);
      rules.reload();
    }
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
      <RuleBuilder
        initial={editing.rule}
        originalId={editing.originalId}
        {...(editing.remote ? { remote: editing.remote } : {})}
        onDone={(savedId) => {
          setEditing(null);
          setJustSaved(savedId ?? null);
          rules.reload();
        }}
      />
    );

  if (machine !== null)
    return (
      <div className="page">
        <div className="page-head">
          <h1>Rules</h1>
          <MachineSwitch machines={machines} value={machine} onChange={setMachine} />
        </div>
        <RemoteRules key={machine} agentId={machine} onEdit={(rule, originalId, remote) => setEditing({ rule, originalId, remote })} />
      </div>
    );

  const list = all;
  // Each shown rule with its place in the whole list (moving is by place, and only offered unfiltered).
  const shown = list.map((r, i) => ({ r, i })).filter(({ r }) => ruleMatches(r, filter));
  const errors = rules.data?.errors ?? [];
  return (
    <div className="page">
      <div className="page-head">
        <h1>Rules</h1>
        <MachineSwitch machines={machines} value={machine} onChange={setMachine} />
        <button className="primary" onClick={() => setEditing({ originalId: null, rule: NEW_RULE })}>
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
      <ErrorBox message={rules.error?.message} />
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
      {list.length ? (
        <div className="toolbar rules-filter" role="search" aria-label="Find rules">
          <input
            ref={searchRef}
            type="search"
            className="grow"
            placeholder="Search names and summaries (press /)"
            aria-label="Search rules"
            value={filter.text}
            onChange={(e) => set({ text: e.target.value })}
            onKeyDown={(e) => {
              // Esc clears the words first, then leaves the field (Chromium's own clearing is not in every shell).
              if (e.key !== 'Escape') return;
              e.preventDefault();
              if (filter.text) set({ text: '' });
              else e.currentTarget.blur();
            }}
          />
          <select aria-label="Trigger" value={filter.trigger} onChange={(e) => set({ trigger: e.target.value })}>
            <option value="">All triggers</option>
            {choices.triggers.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
            {choices.anyType ? <option value={ANY_TYPE}>any type</option> : null}
          </select>
          {choices.machines.length ? (
            <select aria-label="Events from" value={filter.machine} onChange={(e) => set({ machine: e.target.value })}>
              <option value="">All machines</option>
              <option value={THIS_MACHINE}>This machine</option>
              {choices.machines.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          ) : null}
          <select aria-label="State" value={filter.state} onChange={(e) => set({ state: e.target.value as RuleFilter['state'] })}>
            <option value="all">Enabled and paused</option>
            <option value="enabled">Enabled</option>
            <option value="paused">Paused</option>
          </select>
          {filtering ? (
            <>
              <span className="muted small" role="status">
                {shown.length} of {list.length} rules
              </span>
              <button type="button" onClick={() => setFilter(NO_FILTER)}>
                Clear
              </button>
            </>
          ) : null}
        </div>
      ) : null}
      {list.length && !shown.length ? (
        <NoMatch
          onClear={() => {
            setFilter(NO_FILTER);
            searchRef.current?.focus();
          }}
        >
          No rules match these filters.
        </NoMatch>
      ) : null}
      <ul className="card-list" aria-label="Rules">
        {shown.map(({ r, i }) => (
          <li
            key={r.id}
            data-rule-id={r.id}
            className={`card rule-card ${r.enabled === false ? 'disabled' : ''} ${justSaved === r.id ? 'just-saved' : ''}`}
            aria-label={`Rule ${r.name ?? r.id}`}
          >
            <div className="card-head">
              <label className="switch">
                <input type="checkbox" checked={r.enabled !== false} onChange={() => void toggle(r)} aria-label={`Enabled: ${r.name ?? r.id}`} />
                <span aria-hidden="true" />
              </label>
              <div className="grow">
                <strong>{r.name ?? r.id}</strong>
                {isDefaultRule(r) ? (
                  <span className="badge" title="Shipped with Panoptes; edit or pause it like any other rule">
                    Default
                  </span>
                ) : null}{' '}
                <code className="muted">{r.id}</code>
                <div className="muted small rule-summary">{ruleSummary(r)}</div>
                {overlappingDefaults(r, list).map((d) => (
                  <div key={d.id} className="small rule-overlap" role="note">
                    The default rule “{d.name ?? d.id}” also notifies for every {d.when?.type} event, so the ones this rule leaves out still reach
                    you (for events both match you get one notification).{' '}
                    <button className="small" onClick={() => void toggle(d)}>
                      Pause “{d.name ?? d.id}”
                    </button>
                  </div>
                ))}
              </div>
              <button
                className="small"
                disabled={i === 0 || filtering}
                title={filtering ? 'Clear the filters to reorder: the order is of all rules' : undefined}
                aria-label={`Move ${r.name ?? r.id} up`}
                onClick={() => void move(i, -1)}
              >
                ↑
              </button>
              <button
                className="small"
                disabled={i === list.length - 1 || filtering}
                title={filtering ? 'Clear the filters to reorder: the order is of all rules' : undefined}
                aria-label={`Move ${r.name ?? r.id} down`}
                onClick={() => void move(i, 1)}
              >
                ↓
              </button>
              <button aria-expanded={firingsOf === r.id} onClick={() => setFiringsOf(firingsOf === r.id ? null : r.id)}>
                Recent firings
              </button>
              <button onClick={() => setEditing({ originalId: r.id, rule: r as Json })}>Edit</button>
              <button
                onClick={() => {
                  const copy = { ...r, id: `${r.id}-copy`, name: `${r.name ?? r.id} (copy)` };
                  setEditing({ originalId: null, rule: copy as Json });
                }}
              >
                Duplicate
              </button>
              <button className="danger" onClick={() => void remove(r)}>
                Delete
              </button>
            </div>
            {firingsOf === r.id ? <RuleFirings ruleId={r.id} /> : null}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The rule's last firings as the engine recorded them, each with its trace. */
function RuleFirings({ ruleId }: { ruleId: string }) {
  const traces = useQuery('traces.list', { ruleId, limit: 20 }, ruleId);
  usePush('notification', (n) => {
    if (n.ruleId === ruleId) traces.reload();
  });
  const list = (traces.data?.traces ?? []) as { at: string; eventIds: string[]; trace: unknown }[];
  return (
    <section className="rule-firings" aria-label={`Recent firings of ${ruleId}`}>
      {traces.error ? <div className="error-box">{traces.error.message}</div> : null}
      {traces.data && !list.length ? <p className="muted">No firings yet.</p> : null}
      <ol className="rb-firings">
        {list.map((t, i) => (
          <li key={i} className="rb-firing">
            <strong>{dateTime(t.at)}</strong> <span className="muted">on {t.eventIds.length} event{t.eventIds.length === 1 ? '' : 's'}</span>
            <EventTitles ids={t.eventIds} max={3} />
            <details>
              <summary>Why it fired</summary>
              <TraceView trace={t.trace} />
            </details>
          </li>
        ))}
      </ol>
    </section>
  );
}
