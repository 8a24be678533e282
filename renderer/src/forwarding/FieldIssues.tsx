import type { ValidationIssue } from '../../../core/protocol.js';

/** The problems at `at` and below it (`exact`: at `at` only, when the fields below show their own). */
export function FieldIssues({ issues, at, exact = false }: { issues: ValidationIssue[]; at: string; exact?: boolean }) {
  const mine = issues.filter((i) => i.path === at || (!exact && (i.path.startsWith(at + '.') || i.path.startsWith(at + '['))));
  if (!mine.length) return null;
  return (
    <div className="error field-issue" role="alert" data-path={at}>
      {mine.map((i) => (i.path === at ? i.message : `${i.path.slice(at.length).replace(/^\./, '')}: ${i.message}`)).join('; ')}
    </div>
  );
}
