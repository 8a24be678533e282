import { useEffect, useState } from 'react';
import type { MaintenanceStatus, MaintenanceWindowInfo } from '../../../core/protocol.js';
import { dateTime } from '../lib/format.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { LabelledField, LabelledInput } from '../components/LabelledField.js';
import { useClient, usePush, useQuery, type Query } from '../state.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const DAY_NAME: Record<(typeof DAYS)[number], string> = { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' };
/** Windows open and close on the minute; the board re-asks this often so "open now" stays true without a push. */
const REFRESH_MS = 30_000;

/** "Sundays 02:00–04:00", "every day 23:00–01:00", "24 Dec 08:00 – 24 Dec 12:00". */
export function describeWindow(w: Pick<MaintenanceWindowInfo, 'days' | 'start' | 'end' | 'from' | 'until'>): string {
  if (w.from && w.until) return `${dateTime(w.from)} – ${dateTime(w.until)}`;
  const days = w.days?.length ? w.days.map((d) => DAY_NAME[d]).join(', ') : 'every day';
  return `${days} ${w.start}–${w.end}`;
}

/** The maintenance status the Checks view shows (windows, the flag, checks in maintenance), refreshed as windows turn. */
export function useMaintenance(): Query<MaintenanceStatus> {
  const status = useQuery('maintenance.status', {});
  usePush('flags', () => status.reload());
  useEffect(() => {
    const t = setInterval(() => status.reload(), REFRESH_MS);
    return () => clearInterval(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return status;
}

/**
 * Maintenance for many checks at once: scheduled windows (recurring or one-off) for every check or for those with
 * some tags, and "maintenance now" (the `maintenance` flag, for a while). Checks hold their downs meanwhile; rules
 * with `"context": { "maintenance": false }` stay quiet.
 */
export function MaintenancePanel({ status }: { status: Query<MaintenanceStatus> }) {
  const client = useClient();
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'recurring' | 'once'>('recurring');
  const [days, setDays] = useState<string[]>([]);
  const [start, setStart] = useState('02:00');
  const [end, setEnd] = useState('04:00');
  const [from, setFrom] = useState('');
  const [until, setUntil] = useState('');
  const [tags, setTags] = useState('');
  const [forHow, setForHow] = useState('1h');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (what: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await what();
      status.reload();
      return true;
    } catch (e) {
      setError((e as Error).message);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const add = async () => {
    // datetime-local is the user's local time without a zone; Date reads it as local, toISOString gives the instant.
    const iso = (v: string) => (v ? new Date(v).toISOString() : undefined);
    const window = {
      name: name.trim(),
      tags: tags.split(',').map((t) => t.trim()).filter(Boolean),
      ...(kind === 'recurring' ? { start, end, ...(days.length ? { days } : {}) } : { from: iso(from), until: iso(until) }),
    };
    if (await run(() => client.request('maintenance.save', { window }))) {
      setName('');
      setTags('');
    }
  };

  const s = status.data;
  return (
    <section className="card maintenance" aria-label="Maintenance">
      <div className="card-head">
        <h2 className="grow">Maintenance</h2>
        {s?.flag ? (
          <>
            <span className="status status-degraded">Maintenance on{s.flagExpiresAt ? ` until ${dateTime(s.flagExpiresAt)}` : ''}</span>
            <button disabled={busy} onClick={() => void run(() => client.request('flags.clear', { name: 'maintenance' }))}>
              End maintenance
            </button>
          </>
        ) : (
          <form
            className="inline-form"
            aria-label="Maintenance now"
            onSubmit={(e) => {
              e.preventDefault();
              void run(() => client.request('flags.set', { name: 'maintenance', ...(forHow.trim() ? { for: forHow.trim() } : {}) }));
            }}
          >
            <LabelledInput id="maint-for" label="For" size={6} value={forHow} onChange={(e) => setForHow(e.target.value)} placeholder="1h" />
            <button type="submit" disabled={busy}>
              Start maintenance now
            </button>
          </form>
        )}
      </div>
      <p className="muted">
        While a window is open, checks hold their downs (announced when it closes, if still down) and rules with “not during maintenance” stay quiet. A
        window without tags covers every check.
      </p>
      <ErrorBox message={status.error?.message} />
      {s?.windows.length ? (
        <ul className="card-list" aria-label="Maintenance windows">
          {s.windows.map((w) => (
            <li key={w.id} className="card-head maintenance-window" aria-label={w.name}>
              <strong>{w.name}</strong>
              <span className="muted">{describeWindow(w)}</span>
              <span className="muted">{w.tags.length ? `tags: ${w.tags.join(', ')}` : 'all checks'}</span>
              {w.open ? <span className="status status-degraded">Open now</span> : null}
              <span className="grow" />
              <button disabled={busy} aria-label={`Remove maintenance window ${w.name}`} onClick={() => void run(() => client.request('maintenance.remove', { id: w.id }))}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      ) : s ? (
        <div className="muted">No scheduled windows.</div>
      ) : null}
      <form
        className="inline-form maintenance-form"
        aria-label="Add a maintenance window"
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
      >
        <LabelledInput id="maint-name" label="Name" value={name} placeholder="NAS updates" onChange={(e) => setName(e.target.value)} />
        <LabelledField id="maint-kind" label="Repeats">
          <select id="maint-kind" value={kind} onChange={(e) => setKind(e.target.value as 'recurring' | 'once')}>
            <option value="recurring">Weekly</option>
            <option value="once">Once</option>
          </select>
        </LabelledField>
        {kind === 'recurring' ? (
          <>
            <fieldset className="field days" aria-label="Days">
              <legend>Days (none: every day)</legend>
              {DAYS.map((d) => (
                <label key={d}>
                  <input type="checkbox" checked={days.includes(d)} onChange={(e) => setDays((prev) => (e.target.checked ? [...prev, d] : prev.filter((x) => x !== d)))} />
                  {DAY_NAME[d]}
                </label>
              ))}
            </fieldset>
            <LabelledInput id="maint-start" label="From" type="time" value={start} onChange={(e) => setStart(e.target.value)} />
            <LabelledInput id="maint-end" label="To" type="time" value={end} onChange={(e) => setEnd(e.target.value)} />
          </>
        ) : (
          <>
            <LabelledInput id="maint-from" label="Starts" type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
            <LabelledInput id="maint-until" label="Ends" type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />
          </>
        )}
        <LabelledInput id="maint-tags" label="Tags (optional)" value={tags} placeholder="nas, home-lab" onChange={(e) => setTags(e.target.value)} />
        <button type="submit" className="primary" disabled={busy}>
          Add window
        </button>
      </form>
      <ErrorBox message={error} />
    </section>
  );
}
