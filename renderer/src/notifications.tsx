import { createContext, useContext, useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import type { NotificationPayload, NotificationStatus } from '../../core/protocol.js';
import { useClient, useConnection, usePush } from './state.js';
import { useToasts } from './components/Toasts.js';
import { isDesktop } from './transport/connect.js';

const CURSOR_KEY = 'panoptes.notificationCursor';
/** After a reconnect, at most this many missed notifications become toasts; more become one line. */
const MAX_CATCH_UP_TOASTS = 3;

interface NotificationState {
  status: NotificationStatus | null;
  /** Bumped when a notification arrives, so the inbox reloads. */
  arrivals: number;
}

const Ctx = createContext<NotificationState>({ status: null, arrivals: 0 });
export const useNotificationState = () => useContext(Ctx);

function readCursor(): number | null {
  try {
    const v = localStorage.getItem(CURSOR_KEY);
    return v === null ? null : Number(v) || null;
  } catch {
    return null;
  }
}

function writeCursor(seq: number): void {
  try {
    if (seq > (readCursor() ?? 0)) localStorage.setItem(CURSOR_KEY, String(seq));
  } catch {
    // Private mode without storage: the page catches up as a new page next time.
  }
}

/**
 * This page as the "ui" channel: it shows (as toasts, and browser notifications when allowed and the tab is hidden)
 * what the engine's notification center routed to open pages, tells the center it did, and on every (re)connect
 * asks for what it missed from its cursor (a new page: what no page has shown yet), so start-up firings are seen
 * once. Also carries the unread count, holds and quiet hours for the header and the tab title.
 */
export function NotificationsProvider({ children }: { children: ReactNode }) {
  const client = useClient();
  const toasts = useToasts();
  const { status: conn, generation } = useConnection();
  const [status, setStatus] = useState<NotificationStatus | null>(null);
  const [arrivals, setArrivals] = useState(0);
  const seen = useRef(new Set<string>());

  /**
   * What clicking a single notification opens, as the inbox's title and the desktop shell's click do: the address the
   * engine gave it (`open`: a page change's diff), else its event; it then counts as read. Handed to App as the desktop
   * preload's messages are (App checks the address is one of its views).
   */
  const opener = (n: NotificationPayload): (() => void) | undefined => {
    if (n.kind !== 'single' || (!n.open && !n.eventId)) return undefined;
    return () => {
      void client.request('notifications.read', { ids: [n.id] }).catch(() => {});
      window.postMessage(n.open ? { type: 'panoptes-open-view', view: n.open } : { type: 'panoptes-open-event', eventId: n.eventId }, '/');
    };
  };

  const showOne = (n: NotificationPayload) => {
    // The same notification again only when it changed (another rule's words, back from a snooze): shown in place.
    const key = `${n.id}|${n.title}|${n.snoozedUntil ?? ''}`;
    if (seen.current.has(key)) return;
    seen.current.add(key);
    const onOpen = opener(n);
    toasts.show({ id: n.id, title: n.title, body: n.body, url: n.url, tone: 'notify', priority: n.priority, ...(onOpen ? { onOpen, openLabel: n.open ? 'Open what changed' : 'Open the event' } : {}) });
    if (!isDesktop() && 'Notification' in window && Notification.permission === 'granted' && document.visibilityState !== 'visible') {
      const sys = new Notification(n.title, { body: n.body, tag: n.id });
      sys.onclick = () => {
        window.focus();
        sys.close();
        onOpen?.();
      };
    }
  };

  useEffect(() => {
    if (conn !== 'open') return;
    let live = true;
    void client.request('notifications.status', {}).then((s) => live && setStatus(s), () => {});
    client.request('notifications.catchUp', { channel: 'ui', cursor: readCursor(), limit: MAX_CATCH_UP_TOASTS }).then(
      (r) => {
        if (!live) return;
        writeCursor(r.cursor);
        const mine = r.items.filter((n) => n.channels.includes('ui'));
        if (r.more > 0) {
          toasts.show({ id: 'catch-up', title: `${mine.length + r.more} notifications while this page was closed`, body: mine.map((n) => n.title).join('\n'), tone: 'notify' });
        } else for (const n of mine.slice().reverse()) showOne(n);
        if (r.items.length) setArrivals((a) => a + 1);
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, [client, conn, generation]);

  usePush('notification', (n) => {
    writeCursor(n.seq);
    setArrivals((a) => a + 1);
    if (n.state !== 'shown' || !n.channels.includes('ui')) return;
    showOne(n);
    void client.request('notifications.shown', { channel: 'ui', ids: [n.id] }).catch(() => {});
  });
  usePush('notificationStatus', (s) => {
    setStatus(s);
    setArrivals((a) => a + 1);
  });

  // The tab title carries the unread count, as mail clients do.
  useEffect(() => {
    const n = status?.unread ?? 0;
    document.title = n > 0 ? `(${n > 99 ? '99+' : n}) Panoptes` : 'Panoptes';
  }, [status?.unread]);

  return <Ctx.Provider value={{ status, arrivals }}>{children}</Ctx.Provider>;
}
