/** The rule builder's sections besides conditions and actions: trigger, context gates, pattern, throttle and digest. */
import { ConditionTree } from './ConditionEditor.js';
import { Issues, NumberInput, TextInput, useBuilder, useIssues } from './context.js';
import { DAYS, fieldId, getIn, isObject, newPattern, patternKind, type Json, type Path, type PatternKind } from './model.js';

const DURATION_HINT = 'e.g. 10m, 2h, 1d';

/**
 * Source (one of the user's monitors), event type (from the monitor types' documentation) and machine (the agents
 * this one hears from; left at "Any machine" the rule takes events made here too), each also as a glob.
 */
export function WhenPicker({ path, label }: { path: Path; label: string }) {
  const b = useBuilder();
  const source = getIn(b.rule, [...path, 'source']);
  const type = getIn(b.rule, [...path, 'type']);
  const monitor = b.monitors.find((m) => m.id === source);
  const kinds = monitor ? b.types.filter((t) => t.type === monitor.type) : b.types;
  const eventTypes = kinds.flatMap((t) => t.events.map((e) => ({ type: e.type, description: e.description, from: t.title })));
  const knownType = typeof type !== 'string' || type === '*' || eventTypes.some((e) => e.type === type);
  const knownSource = typeof source !== 'string' || source === '*' || b.monitors.some((m) => m.id === source);
  const sid = fieldId([...path, 'source']);
  const tid = fieldId([...path, 'type']);
  const agent = getIn(b.rule, [...path, 'agent']);
  const knownAgent = typeof agent !== 'string' || b.machines.includes(agent);
  const aid = fieldId([...path, 'agent']);
  const typeIssues = useIssues([...path, 'type']).length > 0;
  const set = (k: 'source' | 'type' | 'agent', v: string) => b.update([...path, k], v === '' ? undefined : v);
  const groups = typeGroups(kinds);
  return (
    <div className="rb-row rb-when" role="group" aria-label={label}>
      <div className="rb-field">
        <label htmlFor={sid}>From monitor</label>
        <select id={sid} value={typeof source === 'string' ? source : ''} onChange={(e) => set('source', e.target.value)}>
          <option value="">Any monitor</option>
          {b.monitors.map((m) => (
            <option key={m.id} value={m.id}>
              {m.name} ({m.type})
            </option>
          ))}
          {!knownSource ? <option value={String(source)}>pattern: {String(source)}</option> : null}
        </select>
        <Issues path={[...path, 'source']} />
      </div>
      <div className="rb-field">
        <label htmlFor={tid}>Event type</label>
        <select
          id={tid}
          value={typeof type === 'string' ? type : ''}
          aria-invalid={typeIssues || undefined}
          aria-describedby={typeIssues ? `${tid}-err` : undefined}
          onChange={(e) => set('type', e.target.value)}
        >
          <option value="">Any type</option>
          {groups.map((g) => (
            <optgroup key={g.label} label={g.label}>
              {g.events.map((e) => (
                <option key={e.type} value={e.type} title={e.description}>
                  {e.type}
                </option>
              ))}
            </optgroup>
          ))}
          {!knownType ? <option value={String(type)}>pattern: {String(type)}</option> : null}
        </select>
        <Issues path={[...path, 'type']} id={`${tid}-err`} />
      </div>
      {/* The same path as the list: its issues are said once, under the list. */}
      <TextInput path={[...path, 'type']} id={`${tid}-pattern`} label="…or a type pattern" mono placeholder="e.g. mail.*" className="rb-narrow" issuesShownBy={`${tid}-err`} />
      {/* Only where there are other machines (or the rule already names one): one machine's rules need no such field. */}
      {b.machines.length || agent !== undefined ? (
        <>
          <div className="rb-field">
            <label htmlFor={aid}>On machine</label>
            <select id={aid} value={typeof agent === 'string' ? agent : ''} onChange={(e) => set('agent', e.target.value)}>
              <option value="">Any machine</option>
              {b.machines.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
              {!knownAgent ? <option value={String(agent)}>pattern: {String(agent)}</option> : null}
            </select>
          </div>
          <TextInput path={[...path, 'agent']} id={`${aid}-pattern`} label="…or a machine pattern" mono placeholder="e.g. pi-*" className="rb-narrow" />
        </>
      ) : null}
      <Issues path={path} />
    </div>
  );
}

/**
 * The type list's groups: one per monitor kind, and the types several kinds emit (X's and Mastodon's `social.post`,
 * the checks' `check.down`) once, in a group that names those kinds, instead of once under each.
 */
function typeGroups(kinds: { title: string; events: { type: string; description: string }[] }[]): { label: string; events: { type: string; description: string }[] }[] {
  const from = new Map<string, string[]>();
  for (const k of kinds) for (const e of k.events) from.set(e.type, [...(from.get(e.type) ?? []), k.title]);
  const shared = new Map<string, { type: string; description: string }[]>();
  const groups: { label: string; events: { type: string; description: string }[] }[] = [];
  for (const k of kinds) {
    const own = k.events.filter((e) => from.get(e.type)!.length === 1);
    if (own.length) groups.push({ label: k.title, events: own });
    for (const e of k.events) {
      const titles = from.get(e.type)!;
      if (titles.length < 2 || titles[0] !== k.title) continue;
      const label = titles.join(', ');
      shared.set(label, [...(shared.get(label) ?? []), e]);
    }
  }
  for (const [label, events] of shared) groups.push({ label, events });
  return groups;
}

export function TriggerSection() {
  return (
    <section className="card rb-section" aria-label="Trigger">
      <h2>When an event arrives</h2>
      <WhenPicker path={['when']} label="Trigger" />
      <h3>…and it matches</h3>
      <ConditionTree path={['if']} />
    </section>
  );
}

export function ContextSection() {
  const b = useBuilder();
  const flags = getIn(b.rule, ['context', 'flags']);
  const entries = isObject(flags) ? Object.entries(flags) : [];
  const between = getIn(b.rule, ['context', 'time', 'between']);
  const days = getIn(b.rule, ['context', 'time', 'days']);
  const dayList = Array.isArray(days) ? (days as string[]) : [];
  const renameFlag = (from: string, to: string) => {
    const next: Record<string, Json> = {};
    for (const [k, v] of entries) next[k === from ? to : k] = v;
    b.update(['context', 'flags'], next);
  };
  return (
    <section className="card rb-section" aria-label="Context">
      <h2>Only while…</h2>
      <div role="group" aria-label="Flag gates">
        {entries.map(([name, want], i) => (
          <div className="rb-row" key={i}>
            <label htmlFor={`rb-flag-${i}`} className="visually-hidden">
              Flag name
            </label>
            <input id={`rb-flag-${i}`} className="mono" value={name} onChange={(e) => renameFlag(name, e.target.value)} />
            <label htmlFor={`rb-flag-want-${i}`} className="visually-hidden">
              Flag state
            </label>
            <select id={`rb-flag-want-${i}`} value={String(want)} onChange={(e) => b.update(['context', 'flags', name], e.target.value === 'true')}>
              <option value="true">is on</option>
              <option value="false">is off</option>
            </select>
            <button type="button" className="small danger" aria-label={`Remove flag gate ${name}`} onClick={() => b.update(['context', 'flags', name], undefined)}>
              ×
            </button>
            <Issues path={['context', 'flags', name]} />
          </div>
        ))}
        <button
          type="button"
          className="small"
          onClick={() => {
            let n = 'dnd';
            for (let i = 2; entries.some(([k]) => k === n); i++) n = `flag${i}`;
            b.update(['context', 'flags', n], false);
          }}
        >
          + Flag gate
        </button>
        <Issues path={['context', 'flags']} />
      </div>
      <div className="rb-row" role="group" aria-label="Time of day">
        <label className="check">
          <input
            type="checkbox"
            checked={Array.isArray(between)}
            onChange={(e) => b.update(['context', 'time', 'between'], e.target.checked ? ['09:00', '18:00'] : undefined)}
          />
          Between
        </label>
        {Array.isArray(between) ? (
          <>
            <label htmlFor="rb-time-from" className="visually-hidden">
              From
            </label>
            <input id="rb-time-from" type="time" value={String(between[0] ?? '')} onChange={(e) => b.update(['context', 'time', 'between', 0], e.target.value)} />
            <span>and</span>
            <label htmlFor="rb-time-to" className="visually-hidden">
              Until
            </label>
            <input id="rb-time-to" type="time" value={String(between[1] ?? '')} onChange={(e) => b.update(['context', 'time', 'between', 1], e.target.value)} />
            <span className="muted small">(a window past midnight, like 22:00–07:00, works)</span>
          </>
        ) : null}
        <Issues path={['context', 'time', 'between']} deep />
      </div>
      <div className="rb-row" role="group" aria-label="Days">
        <span>On</span>
        {DAYS.map((d) => (
          <label key={d} className="check rb-day">
            <input
              type="checkbox"
              checked={dayList.includes(d)}
              onChange={(e) => {
                const next = e.target.checked ? [...dayList, d] : dayList.filter((x) => x !== d);
                b.update(['context', 'time', 'days'], next.length ? DAYS.filter((x) => next.includes(x)) : undefined);
              }}
            />
            {d}
          </label>
        ))}
        <span className="muted small">{dayList.length ? '' : '(every day)'}</span>
        <Issues path={['context', 'time', 'days']} deep />
      </div>
      {Array.isArray(between) || dayList.length ? <p className="muted small">Hours and days are on {b.clock}.</p> : null}
      <Issues path={['context']} />
    </section>
  );
}

const PATTERN_LABELS: Record<PatternKind, string> = {
  none: 'Every matching event',
  count: 'A number of matching events within a time window',
  absent: 'No matching event for a while (silence)',
  after: 'A start event not followed by a matching event in time',
  sequence: 'A sequence of events, in order, within a time window',
};

export function PatternSection() {
  const b = useBuilder();
  const p = getIn(b.rule, ['pattern']);
  const kind = patternKind(p);
  const steps = getIn(b.rule, ['pattern', 'sequence']);
  return (
    <section className="card rb-section" aria-label="Pattern">
      <h2>Fire on</h2>
      <div className="rb-field">
        <label htmlFor="rb-pattern-kind" className="visually-hidden">
          Pattern
        </label>
        <select id="rb-pattern-kind" value={kind} onChange={(e) => b.update(['pattern'], newPattern(e.target.value as PatternKind, p))}>
          {(Object.keys(PATTERN_LABELS) as PatternKind[]).map((k) => (
            <option key={k} value={k}>
              {PATTERN_LABELS[k]}
            </option>
          ))}
        </select>
      </div>
      {kind === 'after' ? (
        <div className="rb-step" role="group" aria-label="Start event">
          <h3>Start event</h3>
          <WhenPicker path={['pattern', 'after', 'when']} label="Start event trigger" />
          <ConditionTree path={['pattern', 'after', 'if']} label="Start event conditions" />
          <p className="muted small">The rule fires when no event matching the trigger above follows the start event within the window.</p>
        </div>
      ) : null}
      {kind === 'sequence' && Array.isArray(steps) ? (
        <ol className="rb-steps">
          {steps.map((_, i) => (
            <li key={i} className="rb-step" aria-label={`Step ${i + 1}`}>
              <div className="rb-row">
                <strong>Step {i + 1}</strong>
                <button type="button" className="small danger" disabled={steps.length <= 1} onClick={() => b.update(['pattern', 'sequence', i], undefined)}>
                  Remove step
                </button>
              </div>
              <WhenPicker path={['pattern', 'sequence', i, 'when']} label={`Step ${i + 1} trigger`} />
              <ConditionTree path={['pattern', 'sequence', i, 'if']} label={`Step ${i + 1} conditions`} />
            </li>
          ))}
          <li className="rb-step-final muted small">…then the rule’s own trigger completes the sequence.</li>
          <button type="button" className="small" onClick={() => b.update(['pattern', 'sequence', steps.length], { when: { type: '*' } })}>
            + Step
          </button>
        </ol>
      ) : null}
      {kind !== 'none' ? (
        <div className="rb-row">
          {kind === 'count' ? <NumberInput path={['pattern', 'count']} label="How many" min={1} max={10000} /> : null}
          <TextInput path={['pattern', 'within']} label="Within" keepEmpty placeholder={DURATION_HINT} className="rb-narrow" />
          <TextInput path={['pattern', 'by']} label="Separately for each (optional)" list="rb-field-names" mono placeholder="e.g. fields.from" />
        </div>
      ) : null}
      <Issues path={['pattern']} />
    </section>
  );
}

export function LimitsSection() {
  const b = useBuilder();
  const throttle = getIn(b.rule, ['throttle']);
  const digest = getIn(b.rule, ['digest']);
  return (
    <section className="card rb-section" aria-label="Throttle and digest">
      <h2>Not too often</h2>
      <label className="check">
        <input type="checkbox" checked={isObject(throttle)} onChange={(e) => b.update(['throttle'], e.target.checked ? { per: '10m' } : undefined)} />
        Throttle: at most one firing per period
      </label>
      {isObject(throttle) ? (
        <div className="rb-row">
          <TextInput path={['throttle', 'per']} label="Period" keepEmpty placeholder={DURATION_HINT} className="rb-narrow" />
          <TextInput path={['throttle', 'by']} label="Separately for each (optional)" list="rb-field-names" mono placeholder="e.g. source" />
        </div>
      ) : null}
      <Issues path={['throttle']} />
      <label className="check">
        <input type="checkbox" checked={isObject(digest)} onChange={(e) => b.update(['digest'], e.target.checked ? { every: '1h' } : undefined)} />
        Digest: collect firings and act once per period
      </label>
      {isObject(digest) ? (
        <div className="rb-row">
          <TextInput path={['digest', 'every']} label="Every" keepEmpty placeholder={DURATION_HINT} className="rb-narrow" />
          <span className="muted small">In templates, <code>{'{{ count }}'}</code> and <code>{'{% for e in events %}'}</code> cover the collected events.</span>
        </div>
      ) : null}
      <Issues path={['digest']} />
    </section>
  );
}
