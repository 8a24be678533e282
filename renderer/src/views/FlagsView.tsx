import { useState } from 'react';
import { useToasts } from '../components/Toasts.js';
import { dateTime, timeAgo } from '../lib/format.js';
import { useClient, usePush, useQuery } from '../state.js';
import { ErrorBox } from '../components/ErrorBox.js';

const SUGGESTED = ['away', 'dnd', 'focus', 'busy'];

export function FlagsView() {
  const client = useClient();
  const toasts = useToasts();
  const flags = useQuery('flags.list', {});
  const [name, setName] = useState('');
  const [duration, setDuration] = useState('');
  const [error, setError] = useState<string | null>(null);

  usePush('flags', (list) => flags.set(list));

  const set = async (flagName: string, forDur?: string) => {
    const n = flagName.trim();
    if (!/^[a-z0-9][a-z0-9._-]*$/i.test(n)) {
      setError('A flag name is letters, digits, dot, dash or underscore, e.g. "dnd".');
      return;
    }
    if (forDur && !/^\d+(\.\d+)?\s*(s|m|h|d)$/.test(forDur.trim())) {
      setError('The duration looks like 45s, 10m, 2h or 1d.');
      return;
    }
    setError(null);
    try {
      await client.request('flags.set', forDur ? { name: n, for: forDur.trim() } : { name: n });
      setName('');
      setDuration('');
      flags.reload();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const clear = (n: string) =>
    client.request('flags.clear', { name: n }).then(
      () => flags.reload(),
      (e: Error) => toasts.show({ title: 'Could not clear the flag', body: e.message, tone: 'error' }),
    );

  const active = (flags.data ?? []).filter((f) => f.value);
  return (
    <div className="page">
      <div className="page-head">
        <h1>Flags</h1>
      </div>
      <p className="muted">Context flags are named switches rules can look at (“only when not dnd”) and set.</p>
      <form
        className="card inline-form"
        aria-label="Set a flag"
        onSubmit={(e) => {
          e.preventDefault();
          void set(name, duration || undefined);
        }}
      >
        <div className="field">
          <label htmlFor="flag-name">Flag</label>
          <input id="flag-name" list="flag-suggestions" value={name} placeholder="dnd" onChange={(e) => setName(e.target.value)} />
          <datalist id="flag-suggestions">
            {SUGGESTED.map((s) => (
              <option key={s} value={s} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor="flag-for">For (optional)</label>
          <input id="flag-for" value={duration} placeholder="30m" onChange={(e) => setDuration(e.target.value)} />
        </div>
        <button type="submit" className="primary">
          Set flag
        </button>
      </form>
      <ErrorBox message={error} />
      <ErrorBox message={flags.error?.message} />
      {flags.data && !active.length ? <div className="empty">No flag is set.</div> : null}
      <ul className="card-list" aria-label="Current flags">
        {active.map((f) => (
          <li key={f.name} className="card flag-card">
            <div className="card-head">
              <span className="flag-name">⚑ {f.name}</span>
              <span className="grow muted">
                set {timeAgo(f.setAt)}
                {f.setBy ? ` by ${f.setBy}` : ''}
                {f.expiresAt ? ` · until ${dateTime(f.expiresAt)}` : ' · until cleared'}
              </span>
              <button onClick={() => void clear(f.name)} aria-label={`Clear flag ${f.name}`}>
                Clear
              </button>
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}
