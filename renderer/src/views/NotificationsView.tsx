import { useEffect, useState } from 'react';
import type { NotificationPayload } from '../../../core/protocol.js';
import { useClient, useQuery } from '../state.js';
import { useNotificationState } from '../notifications.js';
import { useToasts } from '../components/Toasts.js';
import { timeAgo } from '../lib/format.js';

const STATE_LABEL: Record<NotificationPayload['state'], string> = {
  shown: 'shown',
  held: 'held',
  folding: 'folding a storm',
  summarised: 'in a summary',
  folded: 'folded',
  expired: 'expired while held',
};

function fateOf(n: NotificationPayload): string {
  if (n.kind === 'summary') return `summary of ${n.count} held`;
  if (n.kind === 'fold') return n.state === 'folding' ? `collecting a storm (${n.count} so far)` : `${n.count} folded`;
  if (n.snoozedUntil) return `snoozed until ${new Date(n.snoozedUntil).toLocaleTimeString()}`;
  return STATE_LABEL[n.state];
}

/**
 * The inbox: every notification the center made, with its fate (shown, held, summary, fold), unread first by
 * look, mark read, snooze, open the event, and summaries and folds opened into the items they stand for.
 */
export function NotificationsView({ onOpenEvent }: { onOpenEvent(id: string): void }) {
  const { status, arrivals } = useNotificationState();
  const list = useQuery('notifications.list', { limit: 100 }, String(arrivals));
  const client = useClient();
  const toasts = useToasts();

  const act = (p: Promise<unknown>, what: string) =>
    p.then(
      () => list.reload(),
      (e: Error) => toasts.show({ title: `Could not ${what}`, body: e.message, tone: 'error' }),
    );

  const items = list.data?.items ?? [];
  return (
    <div className="page notifications-page">
      <div className="page-head">
        <h1>Notifications</h1>
        <span className="muted" aria-live="polite">
          {status ? `${status.unread} unread` : ''}
          {status?.held ? ` · ${status.held} held` : ''}
        </span>
        <button disabled={!status?.unread} onClick={() => void act(client.request('notifications.read', { all: true }), 'mark all read')}>
          Mark all read
        </button>
      </div>
      {status?.holding.length ? (
        <div className="banner banner-hold" role="status">
          Holding notifications: {status.holding.join('; ')}. They come out as one summary when this ends.
        </div>
      ) : null}
      {list.error ? <div className="error-box">{list.error.message}</div> : null}
      {!list.loading && !items.length ? <div className="empty">No notifications yet. Rules with a “Notify me” action put theirs here.</div> : null}
      <ul className="inbox" aria-label="Notifications">
        {items.map((n) => (
          <InboxItem key={n.id} n={n} onOpenEvent={onOpenEvent} act={act} />
        ))}
      </ul>
    </div>
  );
}

function InboxItem({ n, onOpenEvent, act }: { n: NotificationPayload; onOpenEvent(id: string): void; act(p: Promise<unknown>, what: string): void }) {
  const client = useClient();
  const [open, setOpen] = useState(false);
  const [children, setChildren] = useState<NotificationPayload[] | null>(null);
  const unread = n.state === 'shown' && !n.readAt;
  const group = n.kind !== 'single';
  const openIt = () => {
    if (unread) act(client.request('notifications.read', { ids: [n.id] }), 'mark it read');
    if (n.open) location.hash = n.open;
    else if (n.eventId) onOpenEvent(n.eventId);
  };

  useEffect(() => {
    if (!open || !group) return;
    void client.request('notifications.list', { parentId: n.id, limit: 500 }).then((r) => setChildren(r.items));
  }, [open, group, n.id, n.count, client]);

  return (
    <li className={`inbox-item kind-${n.kind} state-${n.state}${unread ? ' unread' : ''} prio-${n.priority}`} data-fate={n.state} aria-label={n.title}>
      <div className="inbox-main">
        {unread ? <span className="unread-dot" aria-label="unread" /> : null}
        <div className="inbox-text">
          {n.open || n.eventId ? (
            // The notification itself opens what the engine said shows it best (a page change: its diff), else its event.
            <button className="inbox-title inbox-open" title={n.open ? 'Open what changed' : 'Open the event'} onClick={openIt}>
              {n.title}
            </button>
          ) : (
            <div className="inbox-title">{n.title}</div>
          )}
          {n.body ? <div className="inbox-body">{n.body}</div> : null}
          <div className="inbox-meta muted">
            <span className={`fate fate-${n.state}`}>{fateOf(n)}</span>
            {n.priority !== 'normal' ? <span className={`badge prio-${n.priority}`}>{n.priority}</span> : null}
            <span>{n.ruleNames.join(', ')}</span>
            <time dateTime={n.at} title={new Date(n.at).toLocaleString()}>
              {timeAgo(n.at)}
            </time>
          </div>
        </div>
        <div className="inbox-actions">
          {group ? (
            <button className="small" aria-expanded={open} onClick={() => setOpen(!open)}>
              {open ? 'Close' : `Open ${n.count}`}
            </button>
          ) : null}
          {n.eventId ? (
            <button className="small" onClick={() => onOpenEvent(n.eventId!)}>
              Open event
            </button>
          ) : null}
          {n.state === 'shown' ? (
            <button className="small" onClick={() => act(client.request('notifications.read', { ids: [n.id], read: !n.readAt }), 'mark it')}>
              {n.readAt ? 'Mark unread' : 'Mark read'}
            </button>
          ) : null}
          {n.state === 'shown' ? (
            <select
              className="small"
              aria-label="Snooze"
              value=""
              onChange={(e) => e.target.value && act(client.request('notifications.snooze', { id: n.id, for: e.target.value }), 'snooze it')}
            >
              <option value="">Snooze…</option>
              <option value="10m">10 minutes</option>
              <option value="1h">1 hour</option>
              <option value="1d">until tomorrow</option>
            </select>
          ) : null}
        </div>
      </div>
      {open && group ? (
        <ul className="inbox-children" aria-label={`Inside: ${n.title}`}>
          {(children ?? []).map((c) => (
            <li key={c.id} className={`inbox-child state-${c.state}`}>
              <span className="inbox-title">{c.title}</span> <span className="muted">{c.ruleNames.join(', ')} · {timeAgo(c.at)}{c.state === 'expired' ? ' · expired while held' : ''}</span>
              {c.eventId ? (
                <button className="link small" onClick={() => onOpenEvent(c.eventId!)}>
                  Open event
                </button>
              ) : null}
            </li>
          ))}
          {children === null ? <li className="muted">Loading…</li> : null}
        </ul>
      ) : null}
    </li>
  );
}
