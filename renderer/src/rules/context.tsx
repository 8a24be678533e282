/**
 * What every part of the rule builder shares: the rule being edited, a way to change one path of it, the
 * engine's validation issues (by JSON path), field-name suggestions and the event the template previews use.
 * Also the small labelled inputs the sections are made of, each showing the issues for its own path.
 */
import { createContext, useContext } from 'react';
import type { ReactNode } from 'react';
import type { MonitorInfo, MonitorTypeInfo, ValidationIssue } from '../../../core/protocol.js';
import { fieldId, getIn, jsonPath, type Json, type Path } from './model.js';

export interface FieldSuggestion {
  path: string;
  /** An example value seen on a recent event, shortened. */
  example?: string;
  /** What the monitor type documents about the field. */
  doc?: string;
}

export interface Builder {
  rule: Json;
  update(path: Path, value: Json | undefined): void;
  issues: ValidationIssue[];
  /** What the engine warns about (a template in a shell's -c script): shown, never blocking a save. */
  warnings: ValidationIssue[];
  fields: FieldSuggestion[];
  types: MonitorTypeInfo[];
  /** The monitors whose events the rule can name as its source (another machine's, for a rule sent there). */
  monitors: Pick<MonitorInfo, 'id' | 'name' | 'type'>[];
  /** The other machines this one knows (their agent ids, from the fleet's inventory), for `when.agent`. */
  machines: string[];
  previewEventId: string | null;
  /** Whose clock the rule's hours and days follow, said beside them: this machine's (with its zone) or the agent's. */
  clock: string;
}

const Ctx = createContext<Builder | null>(null);
export const BuilderProvider = Ctx.Provider;

export function useBuilder(): Builder {
  const b = useContext(Ctx);
  if (!b) throw new Error('useBuilder outside the rule builder');
  return b;
}

/** Issues whose path is exactly `path` (or, with `deep`, anywhere below it). */
export function useIssues(path: Path, deep = false): ValidationIssue[] {
  const { issues } = useBuilder();
  const p = jsonPath(path);
  return issues.filter((i) => i.path === p || (deep && (i.path.startsWith(p + '.') || i.path.startsWith(p + '['))));
}

export function Issues({ path, deep, id }: { path: Path; deep?: boolean; id?: string }) {
  const list = useIssues(path, deep);
  if (!list.length) return null;
  return (
    <div className="error field-issue" id={id} role="alert" data-path={jsonPath(path)}>
      {list.map((i, n) => (
        // Marked with its own path, so the builder's summary can tell which issues already stand at a field.
        <div key={n} data-issue-path={i.path}>
          {i.message}
        </div>
      ))}
    </div>
  );
}

/** Warnings for `path` and below: said beside the input, in the warning colour. */
export function Warnings({ path }: { path: Path }) {
  const { warnings } = useBuilder();
  const p = jsonPath(path);
  const list = warnings.filter((i) => i.path === p || i.path.startsWith(p + '.') || i.path.startsWith(p + '['));
  if (!list.length) return null;
  return (
    <div className="help warn field-warning" role="status" data-path={p}>
      {list.map((i, n) => (
        <div key={n}>{i.message}</div>
      ))}
    </div>
  );
}

interface InputProps {
  path: Path;
  label: string;
  placeholder?: string;
  help?: ReactNode;
  list?: string;
  mono?: boolean;
  className?: string;
  /** Written instead of removing the key when the input is emptied. */
  keepEmpty?: boolean;
  hideLabel?: boolean;
  /** The input's id when another input edits the same path (the trigger's type: a list and a pattern). */
  id?: string;
  /** The id of the element that already shows this path's issues (the other input of the same path): said once. */
  issuesShownBy?: string;
}

function Labelled({ id, label, hideLabel, help, path, children, className, showIssues = true }: { id: string; label: string; hideLabel?: boolean; help?: ReactNode; path: Path; children: ReactNode; className?: string; showIssues?: boolean }) {
  return (
    <div className={`rb-field ${className ?? ''}`}>
      <label htmlFor={id} className={hideLabel ? 'visually-hidden' : undefined}>
        {label}
      </label>
      {children}
      {help ? <div className="help">{help}</div> : null}
      {showIssues ? <Issues path={path} id={id + '-err'} /> : null}
    </div>
  );
}

export function TextInput({ path, label, placeholder, help, list, mono, className, keepEmpty, hideLabel, id: givenId, issuesShownBy }: InputProps) {
  const b = useBuilder();
  const id = givenId ?? fieldId(path);
  const v = getIn(b.rule, path);
  const bad = useIssues(path).length > 0;
  return (
    <Labelled id={id} label={label} hideLabel={hideLabel} help={help} path={path} className={className} showIssues={!issuesShownBy}>
      <input
        id={id}
        className={mono ? 'mono' : undefined}
        value={v === undefined || v === null ? '' : String(v)}
        placeholder={placeholder}
        list={list}
        aria-invalid={bad || undefined}
        aria-describedby={bad ? (issuesShownBy ?? id + '-err') : undefined}
        onChange={(e) => b.update(path, e.target.value === '' && !keepEmpty ? undefined : e.target.value)}
      />
    </Labelled>
  );
}

export function NumberInput({ path, label, placeholder, help, className, min, max }: InputProps & { min?: number; max?: number }) {
  const b = useBuilder();
  const id = fieldId(path);
  const v = getIn(b.rule, path);
  const bad = useIssues(path).length > 0;
  return (
    <Labelled id={id} label={label} help={help} path={path} className={className}>
      <input
        id={id}
        type="number"
        min={min}
        max={max}
        value={typeof v === 'number' ? v : ''}
        placeholder={placeholder}
        aria-invalid={bad || undefined}
        aria-describedby={bad ? id + '-err' : undefined}
        onChange={(e) => b.update(path, e.target.value === '' ? undefined : Number(e.target.value))}
      />
    </Labelled>
  );
}

export function CheckInput({ path, label }: { path: Path; label: string }) {
  const b = useBuilder();
  const id = fieldId(path);
  return (
    <div className="rb-field rb-check">
      <label className="check">
        <input id={id} type="checkbox" checked={getIn(b.rule, path) === true} onChange={(e) => b.update(path, e.target.checked ? true : undefined)} />
        {label}
      </label>
      <Issues path={path} />
    </div>
  );
}

export function SelectInput({ path, label, options, allowEmpty, hideLabel }: { path: Path; label: string; options: { value: string; label: string }[]; allowEmpty?: string; hideLabel?: boolean }) {
  const b = useBuilder();
  const id = fieldId(path);
  const v = getIn(b.rule, path);
  return (
    <Labelled id={id} label={label} hideLabel={hideLabel} path={path}>
      <select id={id} value={v === undefined ? '' : String(v)} onChange={(e) => b.update(path, e.target.value === '' ? undefined : e.target.value)}>
        {allowEmpty !== undefined ? <option value="">{allowEmpty}</option> : null}
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </Labelled>
  );
}

/** Field names as a datalist, so every field input offers them (with an example value each). */
export function FieldList() {
  const { fields } = useBuilder();
  return (
    <datalist id="rb-field-names">
      {fields.map((f) => (
        <option key={f.path} value={f.path}>
          {[f.example !== undefined ? `e.g. ${f.example}` : '', f.doc ?? ''].filter(Boolean).join(' — ')}
        </option>
      ))}
    </datalist>
  );
}
