/**
 * "Test against history": the engine replays the events received in a range (the last 7 days unless the user picks
 * one) through the rule being edited, in the order and at the times they were received, without side effects, and
 * lists the firings it would have produced with their traces, and why the other events fired nothing.
 */
import { useRef, useState } from 'react';
import type { RuleTestResult } from '../../../core/protocol.js';
import { dateTime } from '../lib/format.js';
import { useClient, usePush } from '../state.js';
import { EventTitles, TraceView } from './TraceView.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { WithLocalTimes } from '../components/LocalTimes.js';
import { LabelledInput } from '../components/LabelledField.js';

const MAX_SHOWN = 100;

/** `<input type="datetime-local">` speaks local time without a zone; the protocol wants ISO instants. */
function localToIso(v: string): string | undefined {
  if (!v) return undefined;
  const t = new Date(v).getTime();
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

function firedEvents(r: RuleTestResult): number {
  return new Set(r.firings.flatMap((f) => f.events)).size;
}

export function TestPanel({ rule }: { rule: unknown }) {
  const client = useClient();
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<RuleTestResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [progress, setProgress] = useState<string | null>(null);
  // The test runs in the engine's worker thread; its id lets this panel follow its progress and cancel it.
  const testId = useRef(`test-${Math.random().toString(36).slice(2)}`);
  usePush('ruleTest', (p) => {
    if (p.testId === testId.current) setProgress(`${p.phase === 'reading' ? 'Reading' : 'Replaying'} ${p.done.toLocaleString()} events…`);
  });

  const cancel = () => void client.request('rules.cancelTest', { testId: testId.current }).catch(() => {});

  const run = async () => {
    setBusy(true);
    setError(null);
    setProgress(null);
    try {
      const s = localToIso(since);
      const u = localToIso(until);
      setResult(await client.request('rules.test', { rule, testId: testId.current, ...(s ? { since: s } : {}), ...(u ? { until: u } : {}) }));
    } catch (e) {
      setError((e as Error).message);
      setResult(null);
    } finally {
      setBusy(false);
      setProgress(null);
    }
  };

  return (
    <section className="card rb-section" aria-label="Test against history">
      <h2>Test against history</h2>
      <p className="muted small">Runs this rule, as it is in the form now, over stored events. Nothing is sent, set or saved.</p>
      <div className="rb-row">
        <LabelledInput className="rb-field" id="rb-test-since" label="Received from" type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />
        <LabelledInput className="rb-field" id="rb-test-until" label="Until" type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />
        <span className="muted small">{since || until ? '' : 'Empty: the last 7 days.'}</span>
        <button type="button" className="primary" onClick={() => void run()} disabled={busy}>
          {busy ? 'Testing…' : 'Test against history'}
        </button>
        {busy ? (
          <>
            <span className="muted small" role="status">
              {progress ?? 'Starting…'}
            </span>
            <button type="button" onClick={cancel}>
              Cancel test
            </button>
          </>
        ) : null}
      </div>
      <ErrorBox message={error} />
      {result ? (
        <div role="region" aria-label="History test result" className="rb-test-result">
          {result.errors.length ? (
            <div className="error-box" role="alert">
              The rule is not valid yet:
              <ul>
                {result.errors.map((i, n) => (
                  <li key={n}>
                    <code>{i.path}</code> {i.message}
                  </li>
                ))}
              </ul>
            </div>
          ) : (
            <p className="rb-test-summary">
              <strong>
                {result.firings.length} firing{result.firings.length === 1 ? '' : 's'}
              </strong>{' '}
              over {result.eventsScanned.toLocaleString()} event{result.eventsScanned === 1 ? '' : 's'} received
              {result.since && result.until ? ` between ${dateTime(result.since)} and ${dateTime(result.until)}` : ''}.
              {result.stopped ? <span role="note"> Not the whole range: {result.stopped.message}.</span> : null}
            </p>
          )}
          <ol className="rb-firings">
            {result.firings.slice(0, MAX_SHOWN).map((f, i) => (
              <li key={i} className="rb-firing" aria-label={`Firing ${i + 1}`}>
                <div>
                  <strong>{dateTime(f.at)}</strong> <span className="muted">on {f.events.length} event{f.events.length === 1 ? '' : 's'}</span>
                </div>
                <EventTitles ids={f.events} />
                <details>
                  <summary>Trace</summary>
                  <TraceView trace={f.trace} actions={f.actions} />
                </details>
              </li>
            ))}
          </ol>
          {result.firings.length > MAX_SHOWN ? <p className="muted">Showing the first {MAX_SHOWN}.</p> : null}
          {result.misses?.length ? (
            <details className="rb-misses">
              <summary>
                {`Why ${result.misses.length === result.eventsScanned - firedEvents(result) ? 'the other' : 'the first'} ${result.misses.length} event${result.misses.length === 1 ? '' : 's'} did not fire`}
              </summary>
              <ul aria-label="Events that did not fire">
                {result.misses.map((m) => (
                  <li key={m.eventId}>
                    <time className="muted" dateTime={m.receivedAt}>
                      {dateTime(m.receivedAt)}
                    </time>{' '}
                    {m.title || '(no title)'} — <WithLocalTimes text={m.reason} />
                  </li>
                ))}
              </ul>
            </details>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
