import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import type { NotificationPayload } from '../../../core/protocol.js';
import { usePush } from '../state.js';
import { isDesktop } from '../transport/connect.js';

export interface Toast {
  id: string;
  title: string;
  body?: string;
  url?: string | null;
  tone: 'info' | 'error' | 'notify';
  priority?: NotificationPayload['priority'];
}

interface ToastApi {
  show(t: Omit<Toast, 'id'> & { id?: string }): void;
}

const ToastContext = createContext<ToastApi>({ show: () => {} });
export const useToasts = () => useContext(ToastContext);

const LIFETIME_MS = 8_000;
const MAX_TOASTS = 5;

/**
 * In-page toasts for the rules' notifications (pushed by the engine) and for the UI's own messages. In a
 * browser tab, a notification also becomes a system notification when the user has allowed it (asked only
 * on a click, see Settings); in Electron the main process shows native ones, so the page does not repeat it.
 */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());

  const dismiss = useCallback((id: string) => {
    setToasts((ts) => ts.filter((t) => t.id !== id));
    const timer = timers.current.get(id);
    if (timer) clearTimeout(timer);
    timers.current.delete(id);
  }, []);

  const show = useCallback(
    (t: Omit<Toast, 'id'> & { id?: string }) => {
      const id = t.id ?? Math.random().toString(36).slice(2);
      setToasts((ts) => [...ts.filter((x) => x.id !== id), { ...t, id }].slice(-MAX_TOASTS));
      // High-priority notifications stay until dismissed.
      if (t.priority !== 'high') timers.current.set(id, setTimeout(() => dismiss(id), LIFETIME_MS));
    },
    [dismiss],
  );

  useEffect(() => () => timers.current.forEach(clearTimeout), []);

  usePush('notification', (n) => {
    show({ id: n.id, title: n.title, body: n.body, url: n.url, tone: 'notify', priority: n.priority });
    if (!isDesktop() && 'Notification' in window && Notification.permission === 'granted' && document.visibilityState !== 'visible') {
      const sys = new Notification(n.title, { body: n.body, tag: n.id });
      sys.onclick = () => {
        window.focus();
        sys.close();
      };
    }
  });

  return (
    <ToastContext.Provider value={{ show }}>
      {children}
      <div className="toasts" role="region" aria-label="Notifications" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.tone} prio-${t.priority ?? 'normal'}`} role={t.tone === 'error' ? 'alert' : 'status'}>
            <div className="toast-text">
              <strong className="toast-title">{t.title}</strong>
              {t.body ? <div className="toast-body">{t.body}</div> : null}
              {t.url && /^https?:/i.test(t.url) ? (
                <a href={t.url} target="_blank" rel="noopener noreferrer">
                  Open link
                </a>
              ) : null}
            </div>
            <button className="icon-button" aria-label="Dismiss notification" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}
