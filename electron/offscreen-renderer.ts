/**
 * The desktop app's browser for the web monitor's rendered fetch: an offscreen BrowserWindow per render, answering
 * the engine's `render-request` (core/shell-messages.ts) with facts. Nothing is decided here — the engine judged the
 * watched address, started the checking proxy this window must use and words every failure
 * (monitors/web/shell-renderer.ts); this only loads, runs the steps and reads.
 *
 * What the window may do: a session of its own while it renders, in memory (no "persist:" partition: cookies, storage,
 * cache and proxy credentials are never the app window's nor another render's — cleared after each render, before the
 * session serves the next one; Electron cannot free a session, so they are reused rather than made per render and
 * number at most the renders that ran at once), every connection through the
 * engine's proxy — loopback included (`<-loopback>`) — which answers only this render's credentials (given here on
 * the proxy's auth challenge), only http(s)/data/blob requests, no permissions, downloads or new windows, sandboxed,
 * no Node integration, context isolation on. The check's timeout covers load, steps and reading. For the page picker
 * the window is read over its DevTools protocol (webContents.debugger) by core/pick-read.ts, the code headless
 * Chromium runs too, within the limits the request carries; over the same protocol the page's document is counted
 * while it loads (core/document-bytes.ts) and reported to the engine, which ends a render past the page limit.
 */
import { BrowserWindow, session, type Session } from 'electron';
import type { RenderAnswerMessage, RenderProgressMessage, RenderRequestMessage } from '../core/shell-messages.js';
import { readForPick } from '../core/pick-read.js';
import { followDocumentBytes, renderProgressReporter } from '../core/document-bytes.js';
import { READ_HTML, stepScript } from './render-scripts.js';

/** Set by the engine's checking proxy on what it refused (monitors/web/checking-proxy.ts). */
const REFUSED_HEADER = 'x-panoptes-refused';

type Phase = 'launch' | 'load' | 'step' | 'read';

export class OffscreenRenderer {
  /** webContents ids of render windows: the app window's navigation rules (main.ts) are not theirs. */
  private readonly contents = new Set<number>();
  private readonly running = new Map<number, BrowserWindow>();
  /** Render sessions not in use, cleared; a render takes one or makes one. */
  private readonly idle: Session[] = [];
  private made = 0;

  private takeSession(): Session {
    const reused = this.idle.pop();
    if (reused) return reused;
    const ses = session.fromPartition(`panoptes-render-${++this.made}`, { cache: false });
    ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
    ses.setPermissionCheckHandler(() => false);
    ses.on('will-download', (event) => event.preventDefault());
    return ses;
  }

  private async releaseSession(ses: Session): Promise<void> {
    await ses.clearStorageData().catch(() => {});
    await ses.clearCache().catch(() => {});
    await ses.clearAuthCache().catch(() => {});
    this.idle.push(ses);
  }

  isRenderContents(id: number): boolean {
    return this.contents.has(id);
  }

  /** The engine stopped waiting (the check was stopped): close that window now. */
  cancel(id: number): void {
    const win = this.running.get(id);
    if (win && !win.isDestroyed()) win.destroy();
  }

  /** `report`: facts while the page loads (its document's bytes so far, render-progress); the engine judges them. */
  async render(req: RenderRequestMessage, report?: (msg: RenderProgressMessage) => void): Promise<RenderAnswerMessage> {
    const deadline = Date.now() + req.timeoutMs;
    const left = () => Math.max(1, deadline - Date.now());
    let phase: Phase = 'launch';
    let stepIndex = 0;
    let failedUrl: string | null = null;
    let status: number | null = null;
    let refused: string | null = null;
    let retryAfter: string | null = null;
    const fail = (error: string, timedOut = false): RenderAnswerMessage => ({ type: 'render-answer', id: req.id, ok: false, phase, stepIndex, timedOut, error, failedUrl });
    const ses = this.takeSession();
    let win: BrowserWindow | null = null;
    let wcId: number | null = null;
    try {
      // This render's proxy (the engine's, with this render's credentials); a reused session's last one is replaced.
      await ses.setProxy({ proxyRules: req.proxy.server, proxyBypassRules: '<-loopback>' });
      // Addresses are the proxy's to judge; here only the scheme, as Chromium's route does in render.ts.
      ses.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !/^(https?|data|blob):/i.test(details.url) }));
      ses.webRequest.onHeadersReceived((details, callback) => {
        if (details.resourceType === 'mainFrame' && details.webContentsId !== undefined && this.contents.has(details.webContentsId)) {
          status = details.statusCode;
          refused = header(details.responseHeaders, REFUSED_HEADER);
          retryAfter = header(details.responseHeaders, 'retry-after');
        }
        callback({});
      });
      win = new BrowserWindow({
        show: false,
        width: 1280,
        height: 900,
        webPreferences: { offscreen: true, sandbox: true, nodeIntegration: false, contextIsolation: true, webviewTag: false, session: ses, backgroundThrottling: false },
      });
      const wc = win.webContents;
      wcId = wc.id;
      this.contents.add(wc.id);
      this.running.set(req.id, win);
      wc.on('login', (event, _details, authInfo, callback) => {
        event.preventDefault();
        // Only the engine's proxy gets credentials; a page's own basic-auth prompt gets none.
        if (authInfo.isProxy) callback(req.proxy.username, req.proxy.password);
        else callback();
      });
      wc.setWindowOpenHandler(() => ({ action: 'deny' }));
      wc.on('did-fail-load', (_e, _code, _desc, validatedURL, isMainFrame) => {
        if (isMainFrame) failedUrl = validatedURL;
      });
      // The page's document as it loads, over the window's DevTools protocol (core/document-bytes.ts, the code
      // headless Chromium runs too): an HTTPS document is a tunnel to the engine's proxy, only the browser sees it.
      wc.debugger.attach('1.3');
      if (report) {
        const onEvent = await followDocumentBytes((method, params) => wc.debugger.sendCommand(method, params) as Promise<unknown>, renderProgressReporter(req.id, report));
        wc.debugger.on('message', (_e, method, params) => onEvent(method, params));
      }
      phase = 'load';
      const loaded = await within(wc.loadURL(req.url), left());
      if (loaded === TIMEOUT) return fail('timed out', true);
      phase = 'step';
      for (const [i, step] of req.steps.entries()) {
        stepIndex = i;
        if (step.kind === 'sleep') {
          await new Promise((r) => setTimeout(r, Math.min(step.ms, left())));
          continue;
        }
        const done = await within(wc.executeJavaScript(stepScript(step, left()), true) as Promise<boolean>, left() + 1_000);
        if (done !== true) return fail('timed out', true);
      }
      // Let what the steps started settle (a click that loads content), within the time left.
      const settleBy = Date.now() + Math.min(5_000, left());
      while (wc.isLoading() && Date.now() < settleBy) await new Promise((r) => setTimeout(r, 100));
      phase = 'read';
      if (req.pick) {
        // The picker's reading (the same code Chromium runs headless, over this window's DevTools protocol).
        const pick = await within(readForPick((method, params) => wc.debugger.sendCommand(method, params) as Promise<unknown>, req.pick, left()), left());
        if (pick === TIMEOUT) return fail('timed out', true);
        return { type: 'render-answer', id: req.id, ok: true, url: wc.getURL(), html: '', screenshot: pick.screenshot ?? new Uint8Array(), status, refused, retryAfter, pick };
      }
      const html = await within(wc.executeJavaScript(READ_HTML) as Promise<string>, left());
      if (html === TIMEOUT) return fail('timed out', true);
      if (Buffer.byteLength(html) > req.maxBytes) return fail('too large');
      const image = await within(wc.capturePage(), left());
      if (image === TIMEOUT) return fail('timed out', true);
      return { type: 'render-answer', id: req.id, ok: true, url: wc.getURL(), html, screenshot: new Uint8Array(image.toPNG()), status, refused, retryAfter };
    } catch (err) {
      if (Date.now() >= deadline) return fail('timed out', true);
      // loadURL fails with Chromium's code (ERR_TUNNEL_CONNECTION_FAILED…): said as net::ERR_… as Playwright says it.
      const code = (err as { code?: unknown }).code;
      return fail(typeof code === 'string' && code.startsWith('ERR_') ? `net::${code}` : ((err as Error)?.message ?? String(err)));
    } finally {
      this.running.delete(req.id);
      if (wcId !== null) this.contents.delete(wcId);
      if (win && !win.isDestroyed()) win.destroy();
      await this.releaseSession(ses);
    }
  }
}

const TIMEOUT = Symbol('timeout');

async function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<typeof TIMEOUT>((r) => (timer = setTimeout(() => r(TIMEOUT), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function header(headers: Record<string, string[]> | undefined, name: string): string | null {
  for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() === name) return v[0] ?? null;
  return null;
}
