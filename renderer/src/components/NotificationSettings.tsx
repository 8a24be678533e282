import type { NotificationPriority, NotificationSettings } from '../../../core/protocol.js';
import { useQuery } from '../state.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const PRIORITIES: NotificationPriority[] = ['low', 'normal', 'high', 'urgent'];

/**
 * Settings → Notifications beyond holds: quiet hours (a weekly schedule in a time zone), storm thresholds, how long
 * held items stay individual, and routing (which channels each priority reaches, and the fallback channel).
 */
export function NotificationSettingsFields({ value, onChange }: { value: NotificationSettings; onChange(v: NotificationSettings): void }) {
  const channels = useQuery('notifications.channels', {});
  const q = value.quietHours;
  const setQ = (patch: Partial<NotificationSettings['quietHours']>) => onChange({ ...value, quietHours: { ...q, ...patch } });
  const setStorm = (patch: Partial<NotificationSettings['storm']>) => onChange({ ...value, storm: { ...value.storm, ...patch } });
  const route = value.routing;
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return (
    <>
      <fieldset className="subgroup" aria-label="Quiet hours">
        <legend>Quiet hours</legend>
        <label className="check">
          <input type="checkbox" checked={q.enabled} onChange={(e) => setQ({ enabled: e.target.checked })} />
          Hold notifications during quiet hours (released as one summary when they end)
        </label>
        <div className="field">
          <label htmlFor="quiet-tz">Time zone</label>
          <input id="quiet-tz" list="quiet-tz-list" value={q.timeZone} onChange={(e) => setQ({ timeZone: e.target.value })} placeholder="Europe/Berlin" />
          <datalist id="quiet-tz-list">
            {zones.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
          <div className="help">Times are wall-clock times there: 22:00 stays 22:00 across a daylight-saving change.</div>
        </div>
        {q.windows.map((w, i) => (
          <div className="quiet-window" key={i} role="group" aria-label={`Quiet window ${i + 1}`}>
            <span className="days">
              {DAYS.map((d, day) => (
                <label key={d} className="check inline">
                  <input
                    type="checkbox"
                    checked={w.days.includes(day)}
                    onChange={(e) => {
                      const days = e.target.checked ? [...w.days, day].sort() : w.days.filter((x) => x !== day);
                      setQ({ windows: q.windows.map((x, j) => (j === i ? { ...x, days } : x)) });
                    }}
                  />
                  {d}
                </label>
              ))}
            </span>
            <label>
              from <input type="time" aria-label="From" value={w.start} onChange={(e) => setQ({ windows: q.windows.map((x, j) => (j === i ? { ...x, start: e.target.value } : x)) })} />
            </label>
            <label>
              to <input type="time" aria-label="To" value={w.end} onChange={(e) => setQ({ windows: q.windows.map((x, j) => (j === i ? { ...x, end: e.target.value } : x)) })} />
            </label>
            <button type="button" className="small" onClick={() => setQ({ windows: q.windows.filter((_, j) => j !== i) })}>
              Remove
            </button>
          </div>
        ))}
        <button type="button" className="small" onClick={() => setQ({ windows: [...q.windows, { days: [1, 2, 3, 4, 5], start: '22:00', end: '07:00' }] })}>
          Add quiet window
        </button>
      </fieldset>
      <fieldset className="subgroup" aria-label="Storms">
        <legend>Storms</legend>
        <div className="rb-row">
          <div className="field">
            <label htmlFor="storm-rule">More than this many from one rule…</label>
            <input id="storm-rule" type="number" min={1} value={value.storm.perRule} onChange={(e) => setStorm({ perRule: Number(e.target.value) })} />
          </div>
          <div className="field">
            <label htmlFor="storm-all">…or from all rules…</label>
            <input id="storm-all" type="number" min={1} value={value.storm.overall} onChange={(e) => setStorm({ overall: Number(e.target.value) })} />
          </div>
          <div className="field">
            <label htmlFor="storm-window">…within (seconds)</label>
            <input id="storm-window" type="number" min={1} value={value.storm.windowSeconds} onChange={(e) => setStorm({ windowSeconds: Number(e.target.value) })} />
          </div>
        </div>
        <div className="help">are folded into one notification (“23 new items from 4 feeds”) with the items inside.</div>
        <div className="field">
          <label htmlFor="held-expiry">Held longer than (hours), an item is only counted in its summary</label>
          <input id="held-expiry" type="number" min={0.1} step="any" value={value.heldExpiryHours} onChange={(e) => onChange({ ...value, heldExpiryHours: Number(e.target.value) })} />
        </div>
        <div className="field">
          <label htmlFor="backfill-age">Older than (minutes) when it comes in, an item is part of a backfill</label>
          <input id="backfill-age" type="number" min={1} value={value.backfillAfterMinutes} onChange={(e) => onChange({ ...value, backfillAfterMinutes: Number(e.target.value) })} />
          <div className="help">A backfill (what a feed already held at its first check, mail caught up after the machine was off) is folded into one notification from the first item. Items a monitor marks as a backfill are folded whatever their age.</div>
        </div>
      </fieldset>
      <fieldset className="subgroup" aria-label="Routing">
        <legend>Routing</legend>
        <table className="routing">
          <thead>
            <tr>
              <th>Priority</th>
              {(channels.data ?? []).map((c) => (
                <th key={c.id}>{c.name}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {PRIORITIES.map((p) => (
              <tr key={p}>
                <th scope="row">{p}</th>
                {(channels.data ?? []).map((c) => (
                  <td key={c.id}>
                    <input
                      type="checkbox"
                      aria-label={`${p} → ${c.name}`}
                      checked={route.byPriority[p].includes(c.id)}
                      onChange={(e) => {
                        const list = e.target.checked ? [...route.byPriority[p], c.id] : route.byPriority[p].filter((x) => x !== c.id);
                        onChange({ ...value, routing: { ...route, byPriority: { ...route.byPriority, [p]: list } } });
                      }}
                    />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        <div className="field">
          <label htmlFor="fallback">When a channel fails, send to</label>
          <select id="fallback" value={route.fallback ?? ''} onChange={(e) => onChange({ ...value, routing: { ...route, fallback: e.target.value || null } })}>
            <option value="">no fallback</option>
            {(channels.data ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
        {Object.keys(route.byRule).length ? (
          <div className="help">
            Rules with their own routing: {Object.entries(route.byRule).map(([r, chs]) => `${r} → ${chs.join(', ') || 'nowhere'}`).join('; ')}
          </div>
        ) : null}
      </fieldset>
    </>
  );
}
