import type { FormBusy } from './useSchemaForm.js';

/**
 * The buttons under a plug-in's form (monitors and channels alike): save (the form's submit), test, cancel. While a
 * save or a test runs, both wait and the running one says so; cancel always works.
 */
export function FormActions(props: { busy: FormBusy; saveLabel: string; testLabel: string; testingLabel: string; onTest?: (() => void) | undefined; onCancel(): void }) {
  const { busy, saveLabel, testLabel, testingLabel, onTest, onCancel } = props;
  return (
    <div className="actions">
      <button type="submit" className="primary" disabled={busy !== null}>
        {busy === 'save' ? 'Saving…' : saveLabel}
      </button>
      {onTest ? (
        <button type="button" onClick={onTest} disabled={busy !== null}>
          {busy === 'test' ? testingLabel : testLabel}
        </button>
      ) : null}
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
