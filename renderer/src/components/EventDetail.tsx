import { ExplainPanel } from './ExplainPanel.js';
import { KindBadge } from './KindBadge.js';
import { useEffect, useMemo, useState } from 'react';
import type { PanoptesEvent } from '../../../core/event.js';
import { useClient } from '../state.js';
import { dateTime } from '../lib/format.js';
import { hasBlockedImages, sanitizeHtml } from '../lib/sanitize.js';

/** Every field of one event; the body rendered as sanitized HTML, images only when the user asks. */
export function EventDetail({ event: listed, onClose }: { event: PanoptesEvent; onClose?: () => void }) {
  const whole = useWholeEvent(listed);
  const event = whole.event;
  const [images, setImages] = useState(false);
  // Feed items keep their published HTML in `fields.contentHtml` (the body is plain text); show the richer one.
  const rich = typeof event.fields.contentHtml === 'string' && event.fields.contentHtml.trim() ? event.fields.contentHtml : null;
  const source = rich ?? event.body;
  const html = useMemo(() => sanitizeHtml(source, { images }), [source, images]);
  const fieldEntries = Object.entries(event.fields).filter(([k]) => !(rich && k === 'contentHtml'));
  const safeUrl = event.url && /^https?:/i.test(event.url) ? event.url : null;
  // A watched page's change links to its versions in History; only that in-app form is followed.
  const diffLink = typeof event.fields.diffLink === 'string' && /^#\/history\?versions=/.test(event.fields.diffLink) ? event.fields.diffLink : null;
  return (
    <article className="event-detail" aria-label="Event details">
      <header>
        <KindBadge of={event.source} />
        <h2>{event.title || <em>(no title)</em>}</h2>
        {onClose ? (
          <button className="icon-button" aria-label="Close details" onClick={onClose}>
            ×
          </button>
        ) : null}
      </header>
      <dl className="meta">
        <dt>Source</dt>
        <dd>{event.source}</dd>
        <dt>Type</dt>
        <dd>{event.type}</dd>
        <dt>Happened</dt>
        <dd>{dateTime(event.ts)}</dd>
        <dt>Received</dt>
        <dd>{dateTime(event.receivedAt)}</dd>
        {event.tags.length ? (
          <>
            <dt>Tags</dt>
            <dd>
              {event.tags.map((t) => (
                <span key={t} className="tag">
                  {t}
                </span>
              ))}
            </dd>
          </>
        ) : null}
        {event.origin ? (
          <>
            <dt>From</dt>
            <dd>{event.origin.hostname}</dd>
          </>
        ) : null}
        {event.url ? (
          <>
            <dt>Link</dt>
            <dd>
              {safeUrl ? (
                <a href={safeUrl} target="_blank" rel="noopener noreferrer nofollow">
                  {safeUrl}
                </a>
              ) : (
                <code>{event.url}</code>
              )}
            </dd>
          </>
        ) : null}
      </dl>
      {whole.state !== 'whole' ? (
        <p className="muted" role="status">
          {whole.state === 'loading' ? 'This event is large: loading all of it…' : 'This event is large and could not be loaded whole; its long parts are cut here.'}
        </p>
      ) : null}
      {diffLink ? (
        <p>
          <a className="button" href={diffLink}>
            See what changed
          </a>
        </p>
      ) : null}
      {source ? (
        <section className="event-body" aria-label="Body">
          {!images && hasBlockedImages(html) ? (
            <button className="small" onClick={() => setImages(true)}>
              Show images (loads from the sender’s server)
            </button>
          ) : null}
          <div className="html-body" dangerouslySetInnerHTML={{ __html: html }} />
        </section>
      ) : null}
      {fieldEntries.length ? (
        <section aria-label="Fields">
          <h3>Fields</h3>
          <table className="fields">
            <tbody>
              {fieldEntries.map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>
                    <code>{typeof v === 'string' ? v : JSON.stringify(v)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
      <ExplainPanel key={event.id} eventId={event.id} />
      <div className="event-id">
        id <code>{event.id}</code>
      </div>
    </article>
  );
}

/**
 * Lists and live pushes send a large event cut short (`cut`); the detail shows all of it, fetched by id. Until it
 * arrives (or if it cannot), the cut copy is shown and says so.
 */
function useWholeEvent(listed: PanoptesEvent): { event: PanoptesEvent; state: 'whole' | 'loading' | 'failed' } {
  const client = useClient();
  const [fetched, setFetched] = useState<{ id: string; event: PanoptesEvent | null } | null>(null);
  useEffect(() => {
    if (!listed.cut) return;
    let live = true;
    client.request('events.get', { id: listed.id }).then(
      (e) => live && setFetched({ id: listed.id, event: e }),
      () => live && setFetched({ id: listed.id, event: null }),
    );
    return () => {
      live = false;
    };
  }, [client, listed.id, listed.cut]);
  if (!listed.cut) return { event: listed, state: 'whole' };
  if (fetched?.id !== listed.id) return { event: listed, state: 'loading' };
  return fetched.event ? { event: fetched.event, state: 'whole' } : { event: listed, state: 'failed' };
}
