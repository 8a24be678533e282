import { useState } from 'react';
import { useClient } from '../state.js';

interface Verdict {
  ruleId: string;
  matched: boolean;
  reason: string;
}

/**
 * "Why did / didn't this notify me?": the engine checks the event against every rule as they are now (with the
 * current flags) and says, per rule, whether it matches and which part of the rule decided.
 */
export function ExplainPanel({ eventId }: { eventId: string }) {
  const client = useClient();
  const [verdicts, setVerdicts] = useState<Verdict[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ask = () => {
    setBusy(true);
    setError(null);
    client
      .request('rules.explain', { eventId })
      .then(
        (r) => setVerdicts(r.verdicts),
        (e: Error) => setError(e.message),
      )
      .finally(() => setBusy(false));
  };
  return (
    <section className="explain" aria-label="Rule verdicts">
      <button className="small" onClick={ask} disabled={busy} aria-expanded={verdicts !== null}>
        {busy ? 'Asking the rules…' : 'Why did / didn’t this notify me?'}
      </button>
      {error ? <div className="error-box">{error}</div> : null}
      {verdicts ? (
        verdicts.length ? (
          <ul className="verdicts">
            {verdicts.map((v) => (
              <li key={v.ruleId} aria-label={`Rule ${v.ruleId}: ${v.matched ? 'matches' : 'does not match'}`}>
                <span className={v.matched ? 'verdict-yes' : 'verdict-no'}>{v.matched ? '✓ matches' : '✗ no'}</span> <code>{v.ruleId}</code>
                <div className="small">{v.reason}</div>
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">There are no enabled rules.</p>
        )
      ) : null}
    </section>
  );
}
