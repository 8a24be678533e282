import { lazy, Suspense, useEffect, useLayoutEffect, useRef, useState, type RefObject } from 'react';
import { ToastProvider, useToasts } from './components/Toasts.js';
import { LiveFeedProvider } from './liveFeed.js';
import { MonitorTypesProvider } from './monitorTypes.js';
import { useShortcuts } from './lib/keys.js';
import { useClient, useConnection, usePush, useQuery } from './state.js';
import { applyTheme } from './theme.js';
import { forgetToken } from './transport/token.js';
import { isDesktop } from './transport/connect.js';
import { FeedView } from './views/FeedView.js';
import { HistoryView } from './views/HistoryView.js';
import { MonitorsView } from './views/MonitorsView.js';
import { RulesView } from './views/RulesView.js';
import { FlagsView } from './views/FlagsView.js';
import { SettingsView } from './views/SettingsView.js';
import { NotificationsView } from './views/NotificationsView.js';
import { NotificationsProvider, useNotificationState } from './notifications.js';

// The dashboard carries the chart library; it loads when first opened so the first paint stays small.
const DashboardView = lazy(() => import('./views/DashboardView.js').then((m) => ({ default: m.DashboardView })));
const ChecksView = lazy(() => import('./views/ChecksView.js').then((m) => ({ default: m.ChecksView })));

const VIEWS = [
  { id: 'feed', label: 'Feed', icon: '◉' },
  { id: 'notifications', label: 'Notifications', icon: '✉' },
  { id: 'history', label: 'History', icon: '⌕' },
  { id: 'rules', label: 'Rules', icon: '⚙' },
  { id: 'monitors', label: 'Monitors', icon: '◎' },
  { id: 'checks', label: 'Checks', icon: '✓' },
  { id: 'flags', label: 'Flags', icon: '⚑' },
  { id: 'dashboard', label: 'Dashboard', icon: '▤' },
  { id: 'settings', label: 'Settings', icon: '☰' },
] as const;
type ViewId = (typeof VIEWS)[number]['id'];

function viewFromHash(): ViewId {
  const m = /^#\/?([a-z]+)/.exec(location.hash);
  return (VIEWS.find((v) => v.id === m?.[1])?.id ?? 'feed') as ViewId;
}

export function App() {
  return (
    <ToastProvider>
      <LiveFeedProvider>
        <MonitorTypesProvider>
          <NotificationsProvider>
            <Shell />
          </NotificationsProvider>
        </MonitorTypesProvider>
      </LiveFeedProvider>
    </ToastProvider>
  );
}

function Shell() {
  const client = useClient();
  const toasts = useToasts();
  const { status } = useConnection();
  const [view, setView] = useState<ViewId>(viewFromHash);
  const hello = useQuery('hello', {});
  const settings = useQuery('settings.get', {});
  const [paused, setPaused] = useState(false);

  useEffect(() => {
    const onHash = () => setView(viewFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    if (hello.data) setPaused(hello.data.paused);
  }, [hello.data]);
  useEffect(() => {
    if (settings.data) applyTheme(settings.data.theme);
  }, [settings.data]);
  usePush('paused', (p) => setPaused(p.paused));
  // config.json edited outside the app (CLI import, an editor): say so, and what was refused.
  const [configProblem, setConfigProblem] = useState<string | null>(null);
  useEffect(() => {
    if (hello.data) setConfigProblem(hello.data.configProblem ?? null);
  }, [hello.data]);
  usePush('config', (c) => {
    setConfigProblem(c.problem);
    if (c.problem === null) {
      settings.reload();
      toasts.show({ title: 'Configuration changed outside the app', body: 'Panoptes took in the new config.json.', tone: 'info' });
    }
  });

  // The desktop preload relays "open this event" (a clicked notification) and "open this view" (the tray menu).
  const [openEvent, setOpenEvent] = useState<{ id: string; seq: number } | null>(null);
  useEffect(() => {
    const onMessage = (ev: MessageEvent) => {
      if (ev.source !== window || !ev.data || typeof ev.data !== 'object') return;
      const d = ev.data as { type?: unknown; eventId?: unknown; view?: unknown };
      if (d.type === 'panoptes-open-event' && typeof d.eventId === 'string') {
        go('feed');
        setOpenEvent((prev) => ({ id: d.eventId as string, seq: (prev?.seq ?? 0) + 1 }));
      } else if (d.type === 'panoptes-open-view' && typeof d.view === 'string') {
        // A view by name (the tray menu), or an address inside the UI the engine gave a notification (`#/history?…`).
        const target = VIEWS.find((v) => v.id === d.view);
        if (target) go(target.id);
        else if (/^#\/[a-z]+\?/.test(d.view) && VIEWS.some((v) => d.view === '#/' + v.id || (d.view as string).startsWith(`#/${v.id}?`))) location.hash = d.view;
      }
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  }, []);

  const openEventInFeed = (id: string) => {
    go('feed');
    setOpenEvent((prev) => ({ id, seq: (prev?.seq ?? 0) + 1 }));
  };
  const go = (id: ViewId) => {
    history.replaceState(null, '', '#/' + id);
    setView(id);
  };
  useShortcuts(Object.fromEntries(VIEWS.map((v, i) => [String(i + 1), () => go(v.id)])));
  const navRef = useRef<HTMLElement>(null);
  const iconsOnly = useIconsOnly(navRef);

  if (status === 'rejected') return <RejectedScreen onRetry={() => client.retryNow()} />;

  const togglePause = () =>
    client.request('monitors.pauseAll', { paused: !paused }).then(
      (r) => setPaused(r.paused),
      (e: Error) => toasts.show({ title: 'Could not pause monitors', body: e.message, tone: 'error' }),
    );

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand" aria-label="Panoptes">
          <span className="logo" aria-hidden="true">
            ◉
          </span>
          Panoptes
        </div>
        <nav aria-label="Main" ref={navRef} className={iconsOnly ? 'icons-only' : undefined}>
          {VIEWS.map((v, i) => (
            <a
              key={v.id}
              href={'#/' + v.id}
              aria-current={view === v.id ? 'page' : undefined}
              title={`${v.label} (${i + 1})`}
              onClick={(e) => {
                e.preventDefault();
                go(v.id);
              }}
            >
              <span aria-hidden="true" className="nav-icon">
                {v.icon}
              </span>
              <span className="nav-label">{v.label}</span>
              {v.id === 'notifications' ? <UnreadBadge /> : null}
            </a>
          ))}
        </nav>
        <div className="topbar-right">
          <QuietIndicator />
          <DndToggle disabled={status !== 'open'} />
          <button className={paused ? 'warn' : ''} onClick={() => void togglePause()} disabled={status !== 'open'} aria-pressed={paused}>
            {paused ? 'Resume monitors' : 'Pause monitors'}
          </button>
          <span className={`conn conn-${status}`} title={status === 'open' ? `Connected${hello.data ? ' to ' + hello.data.agentId : ''}` : 'Not connected'}>
            <span className="dot" aria-hidden="true" />
            <span className="visually-hidden">{status === 'open' ? 'Connected' : 'Disconnected'}</span>
          </span>
        </div>
      </header>
      {status === 'reconnecting' || status === 'connecting' ? (
        <div className="banner" role="status">
          {status === 'connecting' ? 'Connecting to Panoptes…' : 'Reconnecting… (the connection to the Panoptes engine was lost; the page comes back by itself)'}
          {status === 'reconnecting' && !isDesktop() ? (
            <button className="small" onClick={() => client.retryNow()}>
              Retry now
            </button>
          ) : null}
        </div>
      ) : null}
      {configProblem ? (
        <div className="banner banner-warn" role="alert">
          config.json was changed but cannot be used: {configProblem}. Fix the file, or change something here to set it aside.
        </div>
      ) : null}
      {paused ? (
        <div className="banner banner-warn" role="status">
          Monitors are paused: nothing new is collected until you resume.
        </div>
      ) : null}
      <main id="main">
        {view === 'feed' ? <FeedView openEvent={openEvent} /> : null}
        {view === 'notifications' ? <NotificationsView onOpenEvent={openEventInFeed} /> : null}
        {view === 'history' ? <HistoryView /> : null}
        {view === 'rules' ? <RulesView /> : null}
        {view === 'monitors' ? <MonitorsView /> : null}
        {view === 'flags' ? <FlagsView /> : null}
        {view === 'settings' ? <SettingsView /> : null}
        {view === 'checks' ? (
          <Suspense fallback={<div className="page">Loading…</div>}>
            <ChecksView />
          </Suspense>
        ) : null}
        {view === 'dashboard' ? (
          <Suspense fallback={<div className="page">Loading…</div>}>
            <DashboardView />
          </Suspense>
        ) : null}
      </main>
    </div>
  );
}

/** Room the labels must have beyond what they measured before they come back, so the bar does not flicker at the edge. */
const LABELS_SLACK_PX = 24;

/**
 * Whether the navigation must show icons only: its labels do not fit in the room the header leaves it. What fits
 * depends on the window and on the right-hand controls (Do not disturb's "until", quiet hours), so it is measured,
 * not guessed from the window's width; a link that grows (an unread badge) is measured again too.
 */
function useIconsOnly(ref: RefObject<HTMLElement | null>): boolean {
  const [iconsOnly, setIconsOnly] = useState(false);
  const needed = useRef(0);
  useLayoutEffect(() => {
    const nav = ref.current;
    if (!nav || typeof ResizeObserver === 'undefined') return;
    const check = () => {
      if (!nav.classList.contains('icons-only')) {
        if (nav.scrollWidth > nav.clientWidth + 1) {
          needed.current = nav.scrollWidth;
          setIconsOnly(true);
        }
      } else if (nav.clientWidth >= needed.current + LABELS_SLACK_PX) setIconsOnly(false);
    };
    const watch = new ResizeObserver(check);
    watch.observe(nav);
    for (const a of nav.children) watch.observe(a);
    check();
    return () => watch.disconnect();
  }, [ref]);
  return iconsOnly;
}

function UnreadBadge() {
  const { status } = useNotificationState();
  if (!status?.unread) return null;
  return (
    <span className="nav-badge" aria-label={`${status.unread} unread`}>
      {status.unread > 99 ? '99+' : status.unread}
    </span>
  );
}

/** Quiet hours, visible when they hold (and when the next ones start, in the tooltip). */
function QuietIndicator() {
  const { status } = useNotificationState();
  if (!status) return null;
  const q = status.quietHours;
  if (!q.active) return null;
  return (
    <span className="quiet-indicator" role="status" title={q.until ? `Quiet hours until ${new Date(q.until).toLocaleString()}` : 'Quiet hours'}>
      ☾ Quiet hours{q.until ? ` until ${new Date(q.until).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}` : ''}
    </span>
  );
}

/** One click: Do not disturb on for the chosen time (or off). Held notifications come out as one summary after. */
function DndToggle({ disabled }: { disabled: boolean }) {
  const client = useClient();
  const toasts = useToasts();
  const { status } = useNotificationState();
  const on = !!status?.dnd.on;
  const set = (value: string) => {
    const p = value === 'off' ? client.request('flags.clear', { name: 'dnd' }) : client.request('flags.set', { name: 'dnd', ...(value === 'on' ? {} : { for: value }) });
    p.catch((e: Error) => toasts.show({ title: 'Could not change Do not disturb', body: e.message, tone: 'error' }));
  };
  return (
    <span className="dnd-toggle">
      <button className={on ? 'warn' : ''} aria-pressed={on} disabled={disabled} onClick={() => set(on ? 'off' : '1h')} title={on ? 'Turn Do not disturb off' : 'Do not disturb for 1 hour'}>
        {on ? `DND on${status?.dnd.until ? ` until ${new Date(status.dnd.until).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}` : ''}` : 'Do not disturb'}
      </button>
      <select aria-label="Do not disturb for" value="" disabled={disabled} onChange={(e) => e.target.value && set(e.target.value)}>
        <option value="">▾</option>
        <option value="30m">30 minutes</option>
        <option value="1h">1 hour</option>
        <option value="4h">4 hours</option>
        <option value="on">until I turn it off</option>
        {on ? <option value="off">off</option> : null}
      </select>
    </span>
  );
}

function RejectedScreen({ onRetry }: { onRetry(): void }) {
  return (
    <div className="gate">
      <h1>Panoptes did not accept this page’s key</h1>
      <p>
        The agent was probably restarted with a new data folder, or the link was copied without its key. Open the address that
        <code> panoptes agent </code>
        printed when it started (it ends in <code>#token=…</code>).
      </p>
      <div className="actions">
        <button className="primary" onClick={onRetry}>
          Try again
        </button>
        <button
          onClick={() => {
            forgetToken();
            location.reload();
          }}
        >
          Forget the stored key
        </button>
      </div>
    </div>
  );
}

export function NoTokenScreen() {
  return (
    <div className="gate">
      <h1>Open Panoptes from its own link</h1>
      <p>
        This page needs the key of your Panoptes agent. Start it with <code>panoptes agent</code> (or <code>npm run agent</code>)
        and open the address it prints — it looks like <code>http://127.0.0.1:PORT/#token=…</code>.
      </p>
    </div>
  );
}
