import { useId, type ReactNode } from 'react';
import type { FormField } from '../lib/schemaFields.js';

interface Props {
  fields: FormField[];
  values: Record<string, string>;
  errors: Record<string, string>;
  onChange(name: string, value: string): void;
  /** Secret fields that already have a stored value: empty means "keep it". */
  secretsSet?: string[];
  /** Shown inside a field's box after its input, help and error (a lookup's button and choices). */
  extras?: Record<string, ReactNode>;
}

/** The inputs for a monitor's config, one per schema property, labelled and described for screen readers. */
export function SchemaForm({ fields, values, errors, onChange, secretsSet = [], extras = {} }: Props) {
  const base = useId();
  return (
    <div className="schema-form">
      {fields.map((f) => {
        const id = `${base}-${f.name}`;
        const helpId = f.help ? `${id}-help` : undefined;
        const errId = errors[f.name] ? `${id}-err` : undefined;
        const describedBy = [helpId, errId].filter(Boolean).join(' ') || undefined;
        const value = values[f.name] ?? '';
        const common = {
          id,
          name: f.name,
          'aria-describedby': describedBy,
          'aria-invalid': errors[f.name] ? true : undefined,
          required: f.required,
        } as const;
        let input;
        switch (f.kind) {
          case 'boolean':
            input = (
              <input {...common} required={false} type="checkbox" checked={value === 'true'} onChange={(e) => onChange(f.name, String(e.target.checked))} />
            );
            break;
          case 'enum':
            input = (
              <select {...common} value={value} onChange={(e) => onChange(f.name, e.target.value)}>
                {!f.required || value === '' ? <option value="">—</option> : null}
                {f.options.map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </select>
            );
            break;
          case 'list':
          case 'json':
          case 'textarea':
            input = (
              <textarea
                {...common}
                rows={f.kind === 'json' ? 5 : 3}
                spellCheck={false}
                className={f.kind === 'json' ? 'mono' : undefined}
                value={value}
                placeholder={f.kind === 'list' ? 'one per line' : undefined}
                onChange={(e) => onChange(f.name, e.target.value)}
              />
            );
            break;
          default:
            input = (
              <input
                {...common}
                type={f.kind === 'secret' ? 'password' : f.kind === 'url' ? 'url' : f.kind === 'number' || f.kind === 'integer' ? 'number' : 'text'}
                autoComplete={f.kind === 'secret' ? 'new-password' : 'off'}
                inputMode={f.kind === 'integer' ? 'numeric' : undefined}
                min={f.min}
                max={f.max}
                step={f.kind === 'integer' ? 1 : f.kind === 'number' ? 'any' : undefined}
                placeholder={f.kind === 'secret' && secretsSet.includes(f.name) ? 'stored — leave empty to keep' : f.defaultValue !== undefined ? String(f.defaultValue) : undefined}
                value={value}
                onChange={(e) => onChange(f.name, e.target.value)}
              />
            );
        }
        return (
          <div key={f.name} className={`field field-${f.kind}`}>
            <label htmlFor={id}>
              {f.label}
              {f.required ? <span className="req" aria-hidden="true"> *</span> : null}
              {f.kind === 'secret' ? <span className="badge">secret</span> : null}
            </label>
            {input}
            {f.help ? (
              <div className="help" id={helpId}>
                {f.help}
              </div>
            ) : null}
            {errors[f.name] ? (
              <div className="error" id={errId} role="alert">
                {errors[f.name]}
              </div>
            ) : null}
            {extras[f.name] ?? null}
          </div>
        );
      })}
    </div>
  );
}
