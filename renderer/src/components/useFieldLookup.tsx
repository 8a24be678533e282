import { useId, useState, type ReactNode } from 'react';
import type { MonitorTypeInfo } from '../../../core/protocol.js';
import { RequestError } from '../transport/client.js';
import { useClient } from '../state.js';
import { buildConfig, type FormField } from '../lib/schemaFields.js';

type Choice = { label: string; detail: string; values: Record<string, unknown> };
type Values = Record<string, string>;

/** What a lookup before saving came to: the values to save with, or why the form must wait for the user. */
export type LookupOutcome = { outcome: 'ready'; values: Values } | { outcome: 'choose'; values: Values } | { outcome: 'failed'; error: string };

const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));

/**
 * A monitor form's lookup field (the type declares it: weather's place name → places with coordinates): a button
 * beside the field, the choices it found with the first one taken, and a lookup before saving when the field's text
 * is not the one the filled-in values were found for. Types without a lookup get nothing.
 */
export function useFieldLookup(
  type: MonitorTypeInfo,
  fields: FormField[],
  values: Values,
  setValues: (update: (prev: Values) => Values) => void,
  setFieldError: (field: string, message: string | null) => void,
  existingConfig: Record<string, unknown> | undefined,
) {
  const client = useClient();
  const lookup = type.lookup ?? null;
  const groupName = useId();
  const [found, setFound] = useState<{ choices: Choice[]; chosen: number } | null>(null);
  const [busy, setBusy] = useState(false);
  // The field's text the values now in the form were found for (an edited monitor's were found when it was added).
  const [resolved, setResolved] = useState<{ text: string; fills: Values } | null>(() => {
    if (!lookup || !existingConfig || !text(existingConfig[lookup.field])) return null;
    return { text: text(existingConfig[lookup.field]), fills: Object.fromEntries(lookup.fills.map((f) => [f, text(existingConfig[f])])) };
  });

  /** Look up when the field has new text and what it fills is empty or came from an earlier lookup (not typed in). */
  const needed = (vals: Values): boolean => {
    if (!lookup) return false;
    const query = (vals[lookup.field] ?? '').trim();
    if (!query || query === resolved?.text) return false;
    return lookup.fills.every((f) => !(vals[f] ?? '').trim() || (vals[f] ?? '').trim() === resolved?.fills[f]);
  };

  const take = (choice: Choice, vals: Values): Values => {
    const next = { ...vals, ...Object.fromEntries(Object.entries(choice.values).map(([k, v]) => [k, text(v)])) };
    setValues((prev) => ({ ...prev, ...Object.fromEntries(Object.entries(choice.values).map(([k, v]) => [k, text(v)])) }));
    if (lookup) setResolved({ text: next[lookup.field] ?? '', fills: Object.fromEntries(lookup.fills.map((f) => [f, next[f] ?? ''])) });
    return next;
  };

  const run = async (vals: Values): Promise<LookupOutcome> => {
    if (!lookup) return { outcome: 'ready', values: vals };
    setBusy(true);
    try {
      const { choices } = await client.request('monitors.lookup', { type: type.type, query: vals[lookup.field] ?? '', config: buildConfig(fields, vals).config });
      if (!choices.length) throw new Error('Nothing found');
      setFound({ choices, chosen: 0 });
      setFieldError(lookup.field, null);
      const next = take(choices[0]!, vals);
      return { outcome: choices.length === 1 ? 'ready' : 'choose', values: next };
    } catch (e) {
      const error = e instanceof RequestError && e.issues[0] ? e.issues[0].message : (e as Error).message;
      setFound(null);
      setFieldError(lookup.field, error);
      return { outcome: 'failed', error };
    } finally {
      setBusy(false);
    }
  };

  const extras: Record<string, ReactNode> = {};
  if (lookup) {
    extras[lookup.field] = (
      <div className="lookup">
        <button type="button" disabled={busy || !(values[lookup.field] ?? '').trim()} onClick={() => void run(values)}>
          {busy ? 'Looking…' : lookup.label}
        </button>
        {found ? (
          <fieldset className="lookup-choices">
            <legend>{lookup.choicesLabel}</legend>
            {found.choices.length > 1 ? <div className="help">Several have this name: choose one.</div> : null}
            {found.choices.map((c, i) => (
              <label key={`${c.label}|${c.detail}`} className="lookup-choice">
                <input
                  type="radio"
                  name={groupName}
                  checked={i === found.chosen}
                  onChange={() => {
                    setFound({ ...found, chosen: i });
                    take(c, values);
                  }}
                />{' '}
                <strong>{c.label}</strong> <span className="muted">{c.detail}</span>
              </label>
            ))}
          </fieldset>
        ) : null}
      </div>
    );
  }

  return {
    needed,
    run,
    extras,
    /** A change of the field's own text makes what was found stale. */
    changed(field: string) {
      if (lookup && field === lookup.field) setFound(null);
    },
  };
}
