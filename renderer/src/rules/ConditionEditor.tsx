/**
 * The condition tree, edited by clicking: leaves (field · operator · value), "all"/"any" groups and "not".
 * Every input writes straight into the rule's JSON at its path, so the engine's issues for, say,
 * `$.if.all[1].matches` show up under that very value input.
 */
import { useEffect, useState } from 'react';
import { CheckInput, Issues, NumberInput, TextInput, useBuilder, useIssues } from './context.js';
import {
  CASE_OPS,
  changeOperator,
  conditionKind,
  fieldId,
  getIn,
  isObject,
  jsonPath,
  leafOperator,
  newLeaf,
  OPERATORS,
  splitList,
  type Json,
  type JsonObject,
  type Operator,
  type Path,
} from './model.js';

/** The root of a condition tree at `path` (`["if"]`, or inside a pattern step), or a button to start one. */
export function ConditionTree({ path, label = 'Conditions' }: { path: Path; label?: string }) {
  const b = useBuilder();
  const value = getIn(b.rule, path);
  const kind = conditionKind(value);
  return (
    <div className="rb-conditions" role="group" aria-label={label}>
      {value === undefined ? (
        <div className="rb-row">
          <span className="muted">Every event of the trigger matches.</span>
          <button type="button" onClick={() => b.update(path, newLeaf())}>
            Add a condition
          </button>
        </div>
      ) : (
        <>
          <ConditionNode path={path} onRemove={() => b.update(path, undefined)} />
          {kind === 'leaf' || kind === 'not' ? (
            <div className="rb-row">
              <button type="button" className="small" onClick={() => b.update(path, { all: [value as Json, newLeaf()] })}>
                + and…
              </button>
              <button type="button" className="small" onClick={() => b.update(path, { any: [value as Json, newLeaf()] })}>
                + or…
              </button>
            </div>
          ) : null}
        </>
      )}
      <Issues path={path} />
    </div>
  );
}

function ConditionNode({ path, onRemove }: { path: Path; onRemove(): void }) {
  const b = useBuilder();
  const value = getIn(b.rule, path);
  const kind = conditionKind(value);
  if (kind === 'all' || kind === 'any') return <Group path={path} kind={kind} onRemove={onRemove} />;
  if (kind === 'not') {
    return (
      <div className="rb-not" role="group" aria-label={`Not ${jsonPath(path)}`}>
        <div className="rb-row">
          <strong className="rb-keyword">NOT</strong>
          <button type="button" className="small" onClick={() => b.update(path, (value as JsonObject).not ?? newLeaf())}>
            Remove “not”
          </button>
          <button type="button" className="small danger" onClick={onRemove} aria-label={`Remove ${jsonPath(path)}`}>
            Remove
          </button>
        </div>
        <ConditionNode path={[...path, 'not']} onRemove={() => b.update(path, undefined)} />
        <Issues path={[...path, 'not']} />
      </div>
    );
  }
  return <Leaf path={path} onRemove={onRemove} />;
}

function Group({ path, kind, onRemove }: { path: Path; kind: 'all' | 'any'; onRemove(): void }) {
  const b = useBuilder();
  const list = getIn(b.rule, [...path, kind]);
  const children = Array.isArray(list) ? list : [];
  const setKind = (k: 'all' | 'any') => {
    if (k !== kind) b.update(path, { [k]: children });
  };
  const removeChild = (i: number) => {
    const rest = children.filter((_, j) => j !== i);
    // A group with one member left is just that member; with none it goes away.
    b.update(path, rest.length === 0 ? undefined : rest.length === 1 ? rest[0] : { [kind]: rest });
  };
  return (
    <div className={`rb-group rb-group-${kind}`} role="group" aria-label={`Group ${jsonPath(path)}`}>
      <div className="rb-row">
        <label htmlFor={fieldId([...path, 'kind'])} className="visually-hidden">
          Combine
        </label>
        <select id={fieldId([...path, 'kind'])} value={kind} onChange={(e) => setKind(e.target.value as 'all' | 'any')}>
          <option value="all">All of these are true</option>
          <option value="any">Any of these is true</option>
        </select>
        <button type="button" className="small" onClick={() => b.update(path, { not: getIn(b.rule, path) as Json })}>
          Negate
        </button>
        <button type="button" className="small danger" onClick={onRemove} aria-label={`Remove ${jsonPath(path)}`}>
          Remove group
        </button>
      </div>
      <div className="rb-children">
        {children.map((_, i) => (
          <ConditionNode key={i} path={[...path, kind, i]} onRemove={() => removeChild(i)} />
        ))}
      </div>
      <div className="rb-row">
        <button type="button" className="small" onClick={() => b.update([...path, kind, children.length], newLeaf())}>
          + Condition
        </button>
        <button type="button" className="small" onClick={() => b.update([...path, kind, children.length], { [kind === 'all' ? 'any' : 'all']: [newLeaf()] })}>
          + Group
        </button>
      </div>
      <Issues path={[...path, kind]} />
    </div>
  );
}

function Leaf({ path, onRemove }: { path: Path; onRemove(): void }) {
  const b = useBuilder();
  const raw = getIn(b.rule, path);
  const leaf: JsonObject = isObject(raw) ? raw : {};
  const op = leafOperator(leaf);
  const where = jsonPath(path);
  const opId = fieldId([...path, 'op']);
  const badKeys = Object.keys(leaf).filter((k) => k !== 'field' && k !== 'flags' && k !== 'ignoreCase' && !OPERATORS.some((o) => o.op === k));
  return (
    <div className="rb-leaf" role="group" aria-label={`Condition ${where}`}>
      <div className="rb-row rb-leaf-row">
        <TextInput path={[...path, 'field']} label="Field" hideLabel list="rb-field-names" mono placeholder="title, fields.…" keepEmpty className="rb-leaf-field" />
        <div className="rb-field">
          <label htmlFor={opId} className="visually-hidden">
            Operator
          </label>
          <select id={opId} value={op ?? ''} onChange={(e) => b.update(path, changeOperator(leaf, e.target.value as Operator))}>
            {op === null ? <option value="">choose…</option> : null}
            {OPERATORS.map((o) => (
              <option key={o.op} value={o.op}>
                {o.label}
              </option>
            ))}
          </select>
        </div>
        {op ? <LeafValue path={path} op={op} /> : null}
        <button type="button" className="small" onClick={() => b.update(path, { not: leaf })} title="Negate this condition">
          Not
        </button>
        <button type="button" className="small danger" onClick={onRemove} aria-label={`Remove ${where}`}>
          ×
        </button>
      </div>
      {op && CASE_OPS.has(op) ? (
        <div className="rb-row rb-leaf-options">
          <CheckInput path={[...path, 'ignoreCase']} label="Ignore case" />
          {op === 'matches' ? <TextInput path={[...path, 'flags']} label="Regex flags" mono placeholder="e.g. i, m, s" className="rb-narrow" /> : null}
        </div>
      ) : null}
      {badKeys.map((k) => (
        <Issues key={k} path={[...path, k]} />
      ))}
      <Issues path={path} />
    </div>
  );
}

function LeafValue({ path, op }: { path: Path; op: Operator }) {
  const b = useBuilder();
  const kind = OPERATORS.find((o) => o.op === op)!.value;
  const vp = [...path, op];
  const v = getIn(b.rule, vp);
  if (kind === 'text') return <TextInput path={vp} label="Value" hideLabel mono={op === 'matches'} keepEmpty placeholder={op === 'matches' ? 'regular expression' : 'text'} className="rb-grow" />;
  if (kind === 'number') return <NumberInput path={vp} label="Number" />;
  if (kind === 'boolean') {
    const id = fieldId(vp);
    return (
      <div className="rb-field">
        <label htmlFor={id} className="visually-hidden">
          Presence
        </label>
        <select id={id} value={v === false ? 'false' : 'true'} onChange={(e) => b.update(vp, e.target.value === 'true')}>
          <option value="true">(is present)</option>
          <option value="false">(is missing)</option>
        </select>
      </div>
    );
  }
  if (kind === 'list') return <ListValue path={vp} />;
  return <ScalarValue path={vp} />;
}

/** `equals` compares exactly, so the user says whether the value is text, a number, true/false or null. */
function ScalarValue({ path }: { path: Path }) {
  const b = useBuilder();
  const v = getIn(b.rule, path);
  const as = v === null ? 'null' : typeof v === 'number' ? 'number' : typeof v === 'boolean' ? String(v) : 'text';
  const id = fieldId(path);
  const bad = useIssues(path).length > 0;
  return (
    <>
      {as === 'text' || as === 'number' ? (
        <div className="rb-field rb-grow">
          <label htmlFor={id} className="visually-hidden">
            Value
          </label>
          <input
            id={id}
            type={as === 'number' ? 'number' : 'text'}
            value={v === undefined || v === null ? '' : String(v)}
            aria-invalid={bad || undefined}
            onChange={(e) => b.update(path, as === 'number' ? Number(e.target.value) : e.target.value)}
          />
          <Issues path={path} />
        </div>
      ) : null}
      <div className="rb-field">
        <label htmlFor={id + '-as'} className="visually-hidden">
          Value type
        </label>
        <select
          id={id + '-as'}
          value={as}
          onChange={(e) => {
            const t = e.target.value;
            b.update(path, t === 'null' ? null : t === 'true' ? true : t === 'false' ? false : t === 'number' ? Number(v) || 0 : v === undefined || v === null ? '' : String(v));
          }}
        >
          <option value="text">text</option>
          <option value="number">number</option>
          <option value="true">true</option>
          <option value="false">false</option>
          <option value="null">null</option>
        </select>
      </div>
    </>
  );
}

/** A comma-separated list; the text is kept locally so a trailing comma can be typed. */
export function ListValue({ path, label = 'Values', placeholder = 'a, b, c' }: { path: Path; label?: string; placeholder?: string }) {
  const b = useBuilder();
  const v = getIn(b.rule, path);
  const joined = Array.isArray(v) ? v.map((x) => (x === null ? 'null' : String(x))).join(', ') : '';
  const [text, setText] = useState(joined);
  useEffect(() => {
    if (JSON.stringify(splitList(text)) !== JSON.stringify(Array.isArray(v) ? v.map(String) : [])) setText(joined);
    // Only an outside change (the JSON tab) should rewrite what the user is typing.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [joined]);
  const id = fieldId(path);
  return (
    <div className="rb-field rb-grow">
      <label htmlFor={id} className={label === 'Values' ? 'visually-hidden' : undefined}>
        {label}
      </label>
      <input
        id={id}
        value={text}
        placeholder={placeholder}
        onChange={(e) => {
          setText(e.target.value);
          b.update(path, splitList(e.target.value));
        }}
      />
      <Issues path={path} />
    </div>
  );
}
