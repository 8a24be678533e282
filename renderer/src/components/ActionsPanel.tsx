import { useState } from 'react';
import type { ActionRef, DeadLetterInfo } from '../../../core/protocol.js';
import { dateTime } from '../lib/format.js';
import { useClient, usePush, useQuery } from '../state.js';
import { useToasts } from './Toasts.js';

const refKey = (r: ActionRef) => `${r.ruleId}\u0000${r.eventId}\u0000${r.actionIndex}`;

/**
 * Where the rules' actions go: each destination's health since start, and the dead letters (actions that ran out of
 * attempts) with Retry and Discard. Kept current by the `actions` push.
 */
export function ActionsPanel() {
  const client = useClient();
  const toasts = useToasts();
  const status = useQuery('actions.status', {});
  const letters = useQuery('actions.deadLetters', { limit: 100 });
  const [busy, setBusy] = useState<Set<string>>(new Set());
  usePush('actions', (s) => {
    status.set(s);
    if (s.deadLetters !== letters.data?.total) letters.reload();
  });

  const act = (item: DeadLetterInfo, what: 'retry' | 'discard') => {
    const k = refKey(item);
    setBusy((b) => new Set(b).add(k));
    const ref = { ruleId: item.ruleId, eventId: item.eventId, actionIndex: item.actionIndex };
    const done = (ok: boolean) => {
      setBusy((b) => {
        const n = new Set(b);
        n.delete(k);
        return n;
      });
      if (ok) letters.set((prev) => (prev ? { ...prev, items: prev.items.filter((x) => refKey(x) !== k), total: Math.max(0, prev.total - 1) } : prev!));
      else letters.reload();
    };
    const req = what === 'retry' ? client.request('actions.retry', ref).then((r) => r.retried) : client.request('actions.discard', ref).then((r) => r.discarded);
    req.then(done, (e: Error) => {
      done(false);
      toasts.show({ title: what === 'retry' ? 'Could not retry the action' : 'Could not discard the action', body: e.message, tone: 'error' });
    });
  };

  const lanes = status.data?.lanes ?? [];
  return (
    <>
      <section className="card" aria-label="Action destinations">
        <h2>Action destinations</h2>
        {status.error ? <div className="error-box">{status.error.message}</div> : null}
        {lanes.length ? (
          <table className="history-table">
            <thead>
              <tr>
                <th scope="col">Destination</th>
                <th scope="col">Status</th>
                <th scope="col">Running</th>
                <th scope="col">Last success</th>
                <th scope="col">Failures in a row</th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {lanes.map((l) => (
                <tr key={l.lane}>
                  <td>{l.lane}</td>
                  <td>
                    <span className={`status status-${l.healthy ? 'ok' : 'failing'}`}>{l.healthy ? 'ok' : 'unhealthy'}</span>
                  </td>
                  <td>{l.running}</td>
                  <td>{dateTime(l.lastSuccessAt)}</td>
                  <td>{l.consecutiveFailures}</td>
                  <td className="muted">{l.lastError ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <div className="empty">No action has run since Panoptes started.</div>
        )}
      </section>
      <section className="card" aria-label="Dead letters">
        <h2>Dead letters{letters.data?.total ? ` (${letters.data.total})` : ''}</h2>
        <p className="muted">Actions that failed for good: after all their attempts, or in a way retrying would not fix. Retry runs one again with the same idempotency key.</p>
        {letters.error ? <div className="error-box">{letters.error.message}</div> : null}
        {letters.data && !letters.data.items.length ? <div className="empty">None: every action went through.</div> : null}
        {letters.data?.items.length ? (
          <table className="history-table">
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Event</th>
                <th scope="col">Destination</th>
                <th scope="col">Last error</th>
                <th scope="col">Attempts</th>
                <th scope="col">Failed</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {letters.data.items.map((d) => (
                <tr key={refKey(d)} aria-label={`Dead letter: ${d.kind} of ${d.ruleName ?? d.ruleId}`}>
                  <td>{d.ruleName ?? d.ruleId}</td>
                  <td>{d.eventTitle ?? d.eventId}</td>
                  <td>{d.destination}</td>
                  <td>{d.lastError ?? ''}</td>
                  <td>{d.attempts}</td>
                  <td>{dateTime(d.failedAt)}</td>
                  <td className="row-actions">
                    <button className="small" disabled={busy.has(refKey(d))} onClick={() => act(d, 'retry')}>
                      Retry
                    </button>
                    <button className="small" disabled={busy.has(refKey(d))} onClick={() => act(d, 'discard')}>
                      Discard
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
    </>
  );
}
