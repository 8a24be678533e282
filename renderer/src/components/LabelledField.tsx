import type { InputHTMLAttributes, ReactNode } from 'react';

/** A label above its control, tied by id: the row the small forms are made of (maintenance windows, a rule's test range). */
export function LabelledField({ id, label, className = 'field', children }: { id: string; label: string; className?: string; children: ReactNode }) {
  return (
    <div className={className}>
      <label htmlFor={id}>{label}</label>
      {children}
    </div>
  );
}

/** The same with an input, the usual control; the other props go to the input. */
export function LabelledInput({ id, label, className, ...input }: { id: string; label: string; className?: string } & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <LabelledField id={id} label={label} {...(className !== undefined ? { className } : {})}>
      <input id={id} {...input} />
    </LabelledField>
  );
}
