import { useMemo, useState } from 'react';
import type { ValidationIssue } from '../../../core/protocol.js';
import { RequestError } from '../transport/client.js';
import { fieldMessage, fieldsFromSchema, initialValue } from '../lib/schemaFields.js';

/** Which of a form's save or test is running. */
export type FormBusy = 'save' | 'test' | null;

/**
 * What a form built from a plug-in's config schema keeps (monitors and channels alike): the fields, their text,
 * the errors shown at each field and the one for the form, which of save or test is running, and how a refused
 * request's issues land at the field they name. Secrets start empty: the form never shows a stored one.
 */
export function useSchemaForm(schema: Record<string, unknown>, existingConfig: Record<string, unknown> | undefined, restText: (issue: ValidationIssue) => string) {
  const fields = useMemo(() => fieldsFromSchema(schema), [schema]);
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(fields.map((f) => [f.name, f.kind === 'secret' ? '' : initialValue(f, existingConfig?.[f.name])])),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState<FormBusy>(null);

  /** Issues about a config field go to that field; the rest (and any other failure) to the form. */
  const showServerError = (e: Error) => {
    if (e instanceof RequestError && e.issues.length) {
      const byField: Record<string, string> = {};
      const rest: string[] = [];
      for (const i of e.issues) {
        const key = i.path.replace(/^(\$\.)?(config\.)?/, '').split(/[.[]/)[0] ?? '';
        const field = fields.find((f) => f.name === key);
        if (field) byField[key] = fieldMessage(field, i.message);
        else rest.push(restText(i));
      }
      setErrors(byField);
      setFormError(rest.join('; ') || null);
    } else setFormError(e.message);
  };

  /** Run a save or a test with its button showing it is busy; a failure lands at the fields (or the form). */
  const attempt = async (kind: 'save' | 'test', work: () => Promise<void>) => {
    setBusy(kind);
    try {
      await work();
    } catch (e) {
      showServerError(e as Error);
    } finally {
      setBusy(null);
    }
  };

  return { fields, values, setValues, errors, setErrors, formError, setFormError, busy, attempt };
}
