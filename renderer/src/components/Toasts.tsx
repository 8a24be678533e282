import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import type { NotificationPayload } from '../../../core/protocol.js';

export interface Toast {
  id: string;
  title: string;
  body?: string;
  url?: string | null;
  tone: 'info' | 'error' | 'notify';
  priority?: NotificationPayload['priority'];
  /** Clicking the title does this (a notification: open what it is about), then the toast goes. */
  onOpen?: () => void;
  /** The title's tooltip when it opens something. */
  openLabel?: string;
}

interface ToastApi {
  show(t: Omit<Toast, 'id'> & { id?: string }): void;
}

const ToastContext = createContext<ToastApi>({ show: () => {} });
export const useToasts = () => useContext(ToastContext);

const LIFETIME_MS = 8_000;
const MAX_TOASTS = 5;

/**
 * In-page toasts for the rules' notifications (shown by notifications.tsx, the page's side of the "ui" channel)
 * and for the UI's own messages.
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
      if (t.priority !== 'high' && t.priority !== 'urgent') timers.current.set(id, setTimeout(() => dismiss(id), LIFETIME_MS));
    },
    [dismiss],
  );

  useEffect(() => () => timers.current.forEach(clearTimeout), []);

  return (
    <ToastContext.Provider value={{ show }}>
      {children}
      <div className="toasts" role="region" aria-label="Notifications" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.tone} prio-${t.priority ?? 'normal'}`} role={t.tone === 'error' ? 'alert' : 'status'}>
            <div className="toast-text">
              {t.onOpen ? (
                <button
                  className="toast-title toast-open"
                  title={t.openLabel}
                  onClick={() => {
                    dismiss(t.id);
                    t.onOpen!();
                  }}
                >
                  {t.title}
                </button>
              ) : (
                <strong className="toast-title">{t.title}</strong>
              )}
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
