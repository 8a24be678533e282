/**
 * One firing explained: which events, which condition said what about which value, the window, the flags and
 * the actions as rendered. Traces come from the engine as JSON (the protocol types them `unknown`), so
 * every part is read defensively and a missing part is simply not shown.
 */
import { useEffect, useState } from 'react';
import type { PanoptesEvent } from '../../../core/event.js';
import { dateTime } from '../lib/format.js';
import { useClient } from '../state.js';
import { isObject } from './model.js';

interface ConditionLine {
  path: string;
  result: boolean;
  test?: string;
  actual?: unknown;
}

const asObj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : v === undefined ? '(missing)' : JSON.stringify(v));

/** A one-line reading of a rendered action: what the user would see or what would be sent. */
export function describeAction(a: unknown): string {
  const o = asObj(a);
  const [kind] = Object.keys(o);
  if (!kind) return '?';
  const v = asObj(o[kind]);
  switch (kind) {
    case 'notify':
      return `notify “${String(v.title ?? '')}”${v.body ? ` — ${String(v.body)}` : ''}`;
    case 'flag':
      return `flag ${['set', 'clear', 'toggle'].filter((k) => k in v).map((k) => `${k} ${String(v[k])}`).join('')}${v.for ? ` for ${String(v.for)}` : ''}`;
    case 'tag':
      return `tag ${(Array.isArray(v.add) ? v.add : []).join(', ')}`;
    case 'webhook':
      return `webhook ${String(v.method ?? 'POST')} ${String(v.url ?? '')}`;
    case 'command':
      return `command ${(Array.isArray(v.argv) ? v.argv : []).map((x) => JSON.stringify(x)).join(' ')}`;
    case 'chat':
      return `chat ${String(v.network ?? '')} → ${String(v.target ?? '')}: ${String(v.text ?? '')}`;
    case 'email':
      return `email to ${String(v.to ?? '')}: ${String(v.subject ?? '')}`;
    case 'mqtt':
      return `mqtt ${String(v.topic ?? '')}: ${String(v.payload ?? '')}`;
    case 'stop':
      return 'stop';
    default:
      return JSON.stringify(o);
  }
}

export function TraceView({ trace, actions }: { trace: unknown; actions?: unknown[] }) {
  const t = asObj(trace);
  const conditions = (Array.isArray(t.conditions) ? t.conditions : []) as ConditionLine[];
  const window = asObj(t.window);
  const flags = asObj(asObj(t.context).flags);
  const throttle = asObj(t.throttle);
  const acts = actions ?? (Array.isArray(t.actions) ? t.actions : []);
  const renderErrors = Array.isArray(t.renderErrors) ? (t.renderErrors as string[]) : [];
  return (
    <div className="trace">
      <dl className="meta compact">
        {t.kind ? (
          <>
            <dt>Fired by</dt>
            <dd>
              {String(t.kind)}
              {t.key ? (
                <>
                  {' '}
                  for <code>{String(t.key)}</code>
                </>
              ) : null}
            </dd>
          </>
        ) : null}
        {isObject(t.window as never) ? (
          <>
            <dt>Window</dt>
            <dd>
              {window.count !== undefined ? `${String(window.count)} event(s)` : ''}
              {window.within ? ` within ${String(window.within)}` : ''}
            </dd>
          </>
        ) : null}
        {Object.keys(flags).length ? (
          <>
            <dt>Flags</dt>
            <dd>
              {Object.entries(flags).map(([name, v]) => {
                const f = asObj(v);
                return (
                  <span key={name} className="tag">
                    {name}: {String(f.was)} (wants {String(f.want)})
                  </span>
                );
              })}
            </dd>
          </>
        ) : null}
        {throttle.per ? (
          <>
            <dt>Throttle</dt>
            <dd>
              per {String(throttle.per)}, {String(throttle.suppressedSinceLast ?? 0)} held back since the previous one
            </dd>
          </>
        ) : null}
      </dl>
      {conditions.length ? (
        <table className="fields trace-conditions" aria-label="Conditions">
          <tbody>
            {conditions.map((c, i) => (
              <tr key={i}>
                <td className={c.result ? 'ok-text' : 'error-text'} aria-label={c.result ? 'true' : 'false'}>
                  {c.result ? '✓' : '✗'}
                </td>
                <th scope="row">
                  <code>{c.path}</code>
                </th>
                <td>
                  {c.test ? <code>{c.test}</code> : null}
                  {'actual' in c ? <span className="muted"> — saw {show(c.actual)}</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {acts.length ? (
        <ul className="plain-list trace-actions" aria-label="Actions">
          {acts.map((a, i) => (
            <li key={i}>{describeAction(a)}</li>
          ))}
        </ul>
      ) : null}
      {renderErrors.length ? <div className="error-box">{renderErrors.join('\n')}</div> : null}
    </div>
  );
}

/** Titles of the events behind a firing (looked up one by one; only the first few). */
export function EventTitles({ ids, max = 5 }: { ids: string[]; max?: number }) {
  const client = useClient();
  const [events, setEvents] = useState<(PanoptesEvent | null)[] | null>(null);
  const key = ids.slice(0, max).join(',');
  useEffect(() => {
    let live = true;
    Promise.all(ids.slice(0, max).map((id) => client.request('events.get', { id }).catch(() => null))).then((list) => live && setEvents(list));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, key]);
  return (
    <ul className="plain-list small" aria-label="Events">
      {ids.slice(0, max).map((id, i) => {
        const e = events?.[i];
        return (
          <li key={id}>
            {e ? (
              <>
                {e.title || <em>(no title)</em>} <span className="muted">{e.type} · {dateTime(e.ts)}</span>
              </>
            ) : (
              <code className="muted">{id}</code>
            )}
          </li>
        );
      })}
      {ids.length > max ? <li className="muted">…and {ids.length - max} more</li> : null}
    </ul>
  );
}
