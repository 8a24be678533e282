/**
 * The desktop shell's main process: tray, window, native notifications, OS signals, login start. Thin on
 * purpose: decisions are made by the pure modules beside it (tray-model, notifications, security,
 * window-options, autostart, shell-signals); the engine runs in a utilityProcess and is reached over ports.
 */
import { app, BrowserWindow, Tray, Menu, Notification, nativeImage, protocol, session, shell, ipcMain, powerMonitor, screen, safeStorage } from 'electron';
import type { MenuItemConstructorOptions, NativeImage } from 'electron';
import Store from 'electron-store';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { RpcClient } from '../core/rpc/client.js';
import type { FlagState, NotificationPayload, NotificationStatus } from '../core/protocol.js';
import type { MonitorHealth } from '../core/monitor.js';
import type { PanoptesEvent } from '../core/event.js';
import { defaultDataDir } from '../core/data-dir.js';
import { EngineProcess, type EngineStatus } from './engine-process.js';
import { APP_SCHEME, APP_ENTRY, appResponseHeaders, contentTypeFor, resolveAppFile, navigationDecision, externalLinkTarget, isTrustedSender } from './security.js';
import { mainWindowOptions } from './window-options.js';
import { trayModel, dndDuration, type TrayState, type TrayMenuItem, type TrayAction, type TrayIconState } from './tray-model.js';
import { nativeNotificationSpec, showsOnDesktop, catchUpSpecs, advanceCursor, trayNotificationState, type NativeNotificationSpec } from './notifications.js';
import { preferenceStoreOptions, effectiveStartOnLogin, type DesktopPreferences } from './preferences.js';
import { setLinuxAutostart, HIDDEN_FLAG } from './autostart.js';
import { shellSignalEvent, isAmbientType, SHELL_SIGNALS, SHELL_SOURCE } from './shell-signals.js';
import { trayIconFile, windowIconFile } from './icons.js';
import { SecretsVault, type SecretCipher } from './secrets-vault.js';
import { IdleSampler } from './idle-sampler.js';
import { PREFERENCES_GET_CHANNEL, PREFERENCES_SET_CHANNEL, preferencesView, validatePreferencePatch, type EditablePreference } from './preferences-ipc.js';
import { engineMessageHandler } from './engine-messages.js';
import { OffscreenRenderer } from './offscreen-renderer.js';

const here = path.dirname(fileURLToPath(import.meta.url)); // <app>/dist/electron
const distDir = path.dirname(here);
const appRoot = path.dirname(distDir);
const rendererDir = path.join(distDir, 'renderer');
const assetsDir = path.join(appRoot, 'assets');
const preloadPath = path.join(here, 'preload.cjs');
const enginePath = path.join(distDir, 'engine', 'utility-main.js');

const argv = process.argv.slice(1);
const dataArg = argv.indexOf('--data');
const dataDir = dataArg >= 0 && argv[dataArg + 1] ? path.resolve(argv[dataArg + 1]!) : defaultDataDir();
const startHiddenArg = argv.includes(HIDDEN_FLAG);
const log = (line: string) => process.stderr.write(`${new Date().toISOString()} [desktop] ${line}\n`);

// Standard + secure: relative URLs, localStorage and the CSP behave as on https, and the page is not file://.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

if (!app.requestSingleInstanceLock({ dataDir })) {
  // Another Panoptes is already running: it shows its window (second-instance below) and this one leaves.
  app.quit();
} else {
  app.on('second-instance', () => showWindow());
  void app.whenReady().then(onReady);
}

const prefs = new Store<DesktopPreferences>(preferenceStoreOptions() as ConstructorParameters<typeof Store<DesktopPreferences>>[0]);
let tray: Tray | null = null;
let win: BrowserWindow | null = null;
let client: RpcClient | null = null;
let quitting = false;
const trustedSenders = new Set<number>();
const state: TrayState = { engine: 'starting', paused: false, dnd: { on: false, until: null }, unread: 0, failingMonitors: [], latest: [] };
const health = new Map<string, MonitorHealth>();
const monitorNames = new Map<string, string>();
// Notifications must stay referenced until clicked, or their click handlers are collected.
const shown = new Set<Notification>();

// Secrets are encrypted here (safeStorage exists only in the main process) and lent to the engine at its start;
// idle time is read here (powerMonitor works on Wayland, macOS and Windows alike) while an idle monitor runs.
const vault = new SecretsVault(dataDir, safeStorageCipher(), process.platform, log);
const idleSampler = new IdleSampler(
  () => powerMonitor.getSystemIdleTime(),
  (m) => engine.post(m),
);

// Web pages watched "rendered" load in offscreen windows of this app (Chromium comes with Electron), through the
// engine's checking proxy; the engine asks, decides and words the outcome.
const offscreen = new OffscreenRenderer();

const engine = new EngineProcess({
  modulePath: enginePath,
  dataDir,
  log,
  engineArgs: ['--secrets-from-shell', '--idle-from-shell', '--render-from-shell'],
  onMessage: engineMessageHandler({ vault, idle: idleSampler, render: offscreen, log }),
  onExit: () => idleSampler.stop(),
  onStatus: (s: EngineStatus, detail) => {
    state.engine = s;
    if (detail) log(`engine ${s}: ${detail}`);
    renderTray();
  },
  onClient: (c) => void attachClient(c),
});

async function onReady(): Promise<void> {
  protocol.handle(APP_SCHEME, serveAppFile);
  hardenSession();
  createTray();
  engine.start();
  applyLoginStart();
  watchShellSignals();
  ipcMain.on('panoptes-port-request', (event) => {
    if (!isTrustedSender(event.senderFrame?.url, event.sender.id, trustedSenders)) return;
    sendPort(event.sender);
  });
  handlePreferenceRequests();
  // macOS does not pass our args to login items; it tells us it opened the app at login instead.
  const atLogin = process.platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin;
  if (!(startHiddenArg || atLogin || prefs.get('startHidden'))) showWindow();
  if (process.env.PANOPTES_TEST_HOOKS === '1') exposeTestHooks();
}

async function serveAppFile(request: Request): Promise<Response> {
  const file = resolveAppFile(rendererDir, request.url);
  if (!file) return new Response('not found', { status: 404 });
  try {
    const body = await readFile(file);
    return new Response(body, { headers: appResponseHeaders(contentTypeFor(file)) });
  } catch {
    return new Response('not found', { status: 404, headers: appResponseHeaders('text/plain') });
  }
}

function hardenSession(): void {
  const ses = session.defaultSession;
  // The page needs no camera, microphone, geolocation…; notifications are native, from the main process.
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_e, contents) => {
    // A render window (offscreen-renderer.ts) shows a watched page, which may navigate and redirect as it likes
    // through the engine's proxy; it opens nothing (its own handlers deny windows), and nothing opens externally.
    const rendering = () => offscreen.isRenderContents(contents.id);
    contents.on('will-navigate', (event, url) => {
      if (rendering()) return;
      const d = navigationDecision(url);
      if (d.allowInWindow) return;
      event.preventDefault();
      if (d.openExternally) void shell.openExternal(d.openExternally);
    });
    contents.on('will-redirect', (event, url) => {
      if (rendering()) return;
      if (!navigationDecision(url).allowInWindow) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      if (rendering()) return { action: 'deny' };
      const target = externalLinkTarget(url);
      if (target) void shell.openExternal(target);
      return { action: 'deny' };
    });
  });
}

// ---------------------------------------------------------------- window

function createWindow(): BrowserWindow {
  const w = new BrowserWindow(
    mainWindowOptions({
      preloadPath,
      iconPath: windowIconFile(assetsDir, process.platform),
      bounds: prefs.get('windowBounds'),
      displays: screen.getAllDisplays().map((d) => d.workArea),
    }),
  );
  const id = w.webContents.id;
  trustedSenders.add(id);
  w.on('close', (event) => {
    prefs.set('windowBounds', w.getNormalBounds());
    if (!quitting && prefs.get('closeToTray')) {
      event.preventDefault();
      w.hide();
    }
  });
  w.on('closed', () => {
    trustedSenders.delete(id);
    if (win === w) win = null;
  });
  // The unread count is the center's (the inbox marks read); focusing the window no longer clears it by itself.
  w.once('ready-to-show', () => w.show());
  void w.loadURL(APP_ENTRY);
  return w;
}

function showWindow(): BrowserWindow {
  if (!win || win.isDestroyed()) win = createWindow();
  else {
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  }
  return win;
}

function toggleWindow(): void {
  if (win && !win.isDestroyed() && win.isVisible() && win.isFocused()) win.hide();
  else showWindow();
}

/** Each window gets its own engine connection; a new one replaces the old after an engine restart. */
function sendPort(contents: Electron.WebContents): void {
  if (!engine.running || contents.isDestroyed()) return;
  const port = engine.connect();
  contents.postMessage('panoptes-port', null, [port]);
}

function openEvent(eventId: string): void {
  const w = showWindow();
  const send = () => w.webContents.send('panoptes-open-event', eventId);
  if (w.webContents.isLoading()) w.webContents.once('did-finish-load', send);
  else send();
}

function openView(view: string): void {
  const w = showWindow();
  const send = () => w.webContents.send('panoptes-open-view', view);
  if (w.webContents.isLoading()) w.webContents.once('did-finish-load', send);
  else send();
}

// ---------------------------------------------------------------- engine connection

function safeStorageCipher(): SecretCipher {
  return {
    status: async () => ({
      available: await safeStorage.isAsyncEncryptionAvailable(),
      backend: process.platform === 'linux' ? safeStorage.getSelectedStorageBackend() : undefined,
    }),
    encrypt: (text) => safeStorage.encryptStringAsync(text),
    decrypt: async (blob) => {
      const r = await safeStorage.decryptStringAsync(blob);
      return { text: r.result, shouldReEncrypt: r.shouldReEncrypt };
    },
  };
}

async function attachClient(c: RpcClient): Promise<void> {
  client?.close();
  client = c;
  c.on('event', onEvent);
  c.on('notification', (n) => onNotification(n));
  c.on('notificationStatus', onNotificationStatus);
  c.on('flags', onFlags);
  c.on('health', (h) => {
    health.set(h.monitorId, h);
    refreshFailing();
  });
  c.on('monitors', (list) => {
    for (const m of list) {
      monitorNames.set(m.id, m.name);
      health.set(m.id, m.health);
    }
    refreshFailing();
  });
  c.on('paused', (p) => {
    state.paused = p.paused;
    renderTray();
  });
  // The window (if open) reconnects to the new engine too.
  if (win && !win.isDestroyed()) sendPort(win.webContents);
  try {
    const [hello, flags, monitors, page, status] = await Promise.all([
      c.call('hello', {}),
      c.call('flags.list', {}),
      c.call('monitors.list', {}),
      c.call('events.list', { limit: 50 }),
      c.call('notifications.status', {}),
    ]);
    state.paused = hello.paused;
    onFlags(flags);
    for (const m of monitors) {
      monitorNames.set(m.id, m.name);
      health.set(m.id, m.health);
    }
    refreshFailing();
    state.latest = page.events.filter((e) => !isAmbientType(e.type)).slice(0, 5).map(trayEvent);
    onNotificationStatus(status);
    // What the desktop missed while the shell or the engine was down (start-up firings included), once.
    const missed = await c.call('notifications.catchUp', { channel: 'desktop', cursor: prefs.get('notificationCursor') });
    prefs.set('notificationCursor', advanceCursor(prefs.get('notificationCursor'), missed));
    show(catchUpSpecs(missed, displayOptions()));
  } catch (err) {
    log(`could not read the engine's state: ${(err as Error).message}`);
  }
  renderTray();
}

function trayEvent(e: PanoptesEvent) {
  return { id: e.id, title: e.title, source: monitorNames.get(e.source) ?? e.source };
}

function onEvent(e: PanoptesEvent): void {
  if (isAmbientType(e.type)) return;
  state.latest = [trayEvent(e), ...state.latest.filter((x) => x.id !== e.id)].slice(0, 5);
  renderTray();
}

function onFlags(flags: FlagState[]): void {
  const dnd = flags.find((f) => f.name === 'dnd' && f.value);
  state.dnd = { on: !!dnd, until: dnd?.expiresAt ?? null };
  renderTray();
}

function refreshFailing(): void {
  state.failingMonitors = [...health.values()].filter((h) => h.status === 'failing').map((h) => monitorNames.get(h.monitorId) ?? h.monitorId);
  renderTray();
}

// ---------------------------------------------------------------- notifications

// The engine's notification center decided all of this; the shell shows what was routed to the desktop.
function onNotification(n: NotificationPayload): void {
  prefs.set('notificationCursor', advanceCursor(prefs.get('notificationCursor'), n));
  if (!showsOnDesktop(n)) return;
  void client?.call('notifications.shown', { channel: 'desktop', ids: [n.id] }).catch(() => {});
  show([nativeNotificationSpec(n, displayOptions())]);
}

function onNotificationStatus(s: NotificationStatus): void {
  const t = trayNotificationState(s);
  state.unread = t.unread;
  state.dnd = t.dnd;
  state.quietHours = t.quietHours;
  renderTray();
}

function displayOptions() {
  return { clickOpensUrl: prefs.get('notificationClickOpensUrl'), soundEnabled: prefs.get('notificationSound') };
}

function show(specs: NativeNotificationSpec[]): void {
  if (!Notification.isSupported()) return;
  for (const spec of specs) {
    const icon = windowIconFile(assetsDir, process.platform);
    const note = new Notification({ title: spec.title, body: spec.body, silent: spec.silent, urgency: spec.urgency, ...(icon ? { icon } : {}) });
    shown.add(note);
    // Clicks and dismissals go back to the center: the notification counts as read.
    const report = () => void client?.call('notifications.read', { ids: [spec.id] }).catch(() => {});
    note.on('click', () => {
      shown.delete(note);
      report();
      if (spec.onClick.kind === 'url') void shell.openExternal(spec.onClick.url);
      else if (spec.onClick.kind === 'event') openEvent(spec.onClick.eventId);
      else if (spec.onClick.kind === 'inbox') openView('notifications');
      else if (spec.onClick.kind === 'view') openView(spec.onClick.link);
      else showWindow();
    });
    note.on('close', () => {
      shown.delete(note);
      report();
    });
    note.show();
  }
}

// ---------------------------------------------------------------- tray

const iconCache = new Map<TrayIconState, NativeImage>();

function trayImage(s: TrayIconState): NativeImage {
  let img = iconCache.get(s);
  if (!img) {
    img = nativeImage.createFromPath(trayIconFile(assetsDir, process.platform, s));
    if (process.platform === 'darwin') img.setTemplateImage(true);
    iconCache.set(s, img);
  }
  return img;
}

function createTray(): void {
  tray = new Tray(trayImage('normal'));
  tray.on('click', () => {
    if (prefs.get('trayLeftClickToggles')) toggleWindow();
  });
  renderTray();
}

function renderTray(): void {
  if (!tray || tray.isDestroyed()) return;
  const model = trayModel(state);
  tray.setImage(trayImage(model.icon));
  tray.setToolTip(model.tooltip);
  if (process.platform === 'darwin') tray.setTitle(model.badge);
  if (process.platform === 'darwin' || process.platform === 'linux') app.setBadgeCount(state.unread);
  // Windows has no badge count; the taskbar's overlay icon is its badge.
  if (process.platform === 'win32' && win && !win.isDestroyed()) win.setOverlayIcon(state.unread > 0 ? trayImage('unread') : null, state.unread > 0 ? `${state.unread} unread` : '');
  tray.setContextMenu(Menu.buildFromTemplate(model.menu.map(toMenuItem)));
  lastTrayModel = model;
}
let lastTrayModel: ReturnType<typeof trayModel> | null = null;

function toMenuItem(item: TrayMenuItem): MenuItemConstructorOptions {
  if (item.type === 'separator') return { type: 'separator' };
  const action = item.action;
  return {
    label: item.label,
    type: item.type === 'submenu' ? 'submenu' : item.type === 'checkbox' ? 'checkbox' : 'normal',
    checked: item.checked,
    enabled: item.enabled ?? true,
    submenu: item.submenu?.map(toMenuItem),
    click: action ? () => void runTrayAction(action) : undefined,
  };
}

async function runTrayAction(a: TrayAction): Promise<void> {
  try {
    switch (a.kind) {
      case 'open':
        showWindow();
        return;
      case 'settings':
        openView('settings');
        return;
      case 'open-event':
        openEvent(a.eventId);
        return;
      case 'quit':
        app.quit();
        return;
      case 'pause':
        state.paused = (await client!.call('monitors.pauseAll', { paused: a.paused })).paused;
        renderTray();
        return;
      case 'dnd': {
        const dur = dndDuration(a.for, new Date());
        if (dur === null) await client!.call('flags.clear', { name: 'dnd' });
        else await client!.call('flags.set', { name: 'dnd', for: dur });
        return;
      }
    }
  } catch (err) {
    log(`tray action ${a.kind} failed: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------- OS signals and login start

function watchShellSignals(): void {
  for (const signal of SHELL_SIGNALS) {
    powerMonitor.on(signal as 'suspend', () => engine.emit(SHELL_SOURCE, shellSignalEvent(signal, new Date())));
  }
}

function applyLoginStart(): void {
  const on = effectiveStartOnLogin(prefs.store, app.isPackaged);
  try {
    if (process.platform === 'linux') {
      // An AppImage is started through its own file, not the unpacked binary inside it.
      const exec = process.env.APPIMAGE || process.execPath;
      const args = app.isPackaged ? [HIDDEN_FLAG] : [appRoot, HIDDEN_FLAG];
      setLinuxAutostart(on, { exec, args, icon: path.join(assetsDir, 'icons', 'png', '256x256.png') });
    } else {
      app.setLoginItemSettings({ openAtLogin: on, args: [HIDDEN_FLAG] });
    }
  } catch (err) {
    log(`could not ${on ? 'set up' : 'remove'} the login start: ${(err as Error).message}`);
  }
}

prefs.onDidChange('startOnLogin', () => applyLoginStart());

/** The Settings view's Desktop section: read and change preferences, only from our own page, only valid patches. */
function handlePreferenceRequests(): void {
  const trusted = (event: Electron.IpcMainInvokeEvent) => isTrustedSender(event.senderFrame?.url, event.sender.id, trustedSenders);
  ipcMain.handle(PREFERENCES_GET_CHANNEL, (event) => {
    if (!trusted(event)) throw new Error('not allowed');
    return preferencesView(prefs.store, app.isPackaged);
  });
  ipcMain.handle(PREFERENCES_SET_CHANNEL, (event, patch: unknown) => {
    if (!trusted(event)) throw new Error('not allowed');
    const checked = validatePreferencePatch(patch);
    if (!checked.ok) throw new Error(checked.error);
    for (const [key, value] of Object.entries(checked.patch)) prefs.set(key as EditablePreference, value);
    return preferencesView(prefs.store, app.isPackaged);
  });
}

app.on('before-quit', () => {
  quitting = true;
});
app.on('will-quit', (event) => {
  if (!engine.running) return;
  // Let the engine close its database cleanly before the app exits.
  event.preventDefault();
  void engine.stop().then(() => app.exit(0));
});
// Living in the tray: closing the last window does not quit.
app.on('window-all-closed', () => {});

// ---------------------------------------------------------------- test hooks (Playwright _electron only)

function exposeTestHooks(): void {
  (globalThis as Record<string, unknown>).__panoptes = {
    trayCreated: () => !!tray && !tray.isDestroyed(),
    trayModel: () => lastTrayModel,
    call: (method: string, params: unknown) => client?.call(method as 'hello', params as Record<string, never>),
    notificationsShown: () => shown.size,
    engineStatus: () => state.engine,
  };
}
