import { useState } from 'react';
import type { NotificationFate } from '../../../core/protocol.js';
import { useClient } from '../state.js';
import { WithLocalTimes } from './LocalTimes.js';

interface Verdict {
  ruleId: string;
  matched: boolean;
  reason: string;
}

/**
 * "Why did / didn't this notify me?": first what the notification center recorded THEN for this event (shown,
 * merged, held by dnd or quiet hours, folded in a storm, delivered or failed per channel), in rule names and
 * plain words; below, how every rule judges the event as the rules are now.
 */
export function ExplainPanel({ eventId }: { eventId: string }) {
  const client = useClient();
  const [verdicts, setVerdicts] = useState<Verdict[] | null>(null);
  const [fates, setFates] = useState<{ fates: NotificationFate[]; summary: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ask = () => {
    setBusy(true);
    setError(null);
    Promise.all([client.request('notifications.why', { eventId }), client.request('rules.explain', { eventId })])
      .then(
        ([why, r]) => {
          setFates(why);
          setVerdicts(r.verdicts);
        },
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
      {fates ? (
        <div className="fates" aria-label="What happened to its notifications">
          <p>{fates.summary}</p>
          {fates.fates.length > 1 ? (
            <ol className="fate-list">
              {fates.fates.map((f, i) => (
                <li key={i}>
                  <time dateTime={f.at}>{new Date(f.at).toLocaleString()}</time> — {f.text}
                </li>
              ))}
            </ol>
          ) : null}
          {verdicts?.length ? <p className="muted small">The rules as they are now:</p> : null}
        </div>
      ) : null}
      {verdicts ? (
        verdicts.length ? (
          <ul className="verdicts">
            {verdicts.map((v) => (
              <li key={v.ruleId} aria-label={`Rule ${v.ruleId}: ${v.matched ? 'matches' : 'does not match'}`}>
                <span className={v.matched ? 'verdict-yes' : 'verdict-no'}>{v.matched ? '✓ matches' : '✗ no'}</span> <code>{v.ruleId}</code>
                <div className="small">
                  <WithLocalTimes text={v.reason} />
                </div>
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
