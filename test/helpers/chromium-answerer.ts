// The desktop shell's side of a rendered fetch, played by Debian's Chromium: it answers the engine's render-request
// (core/shell-messages.ts) as electron/offscreen-renderer.ts does — through the proxy and credentials the request
// names, with the same step and reading scripts (electron/render-scripts.ts) — so the engine's side
// (monitors/web/shell-renderer.ts) is tested against a real browser where Electron's runtime cannot run. Answers
// cross a structured clone, as they cross the process boundary in the app.
import type { Browser } from 'playwright-core';
import type { RenderAnswerMessage, RenderProgressMessage, RenderRequestMessage } from '../../core/shell-messages.js';
import { READ_HTML, isRenderRequest, stepScript } from '../../electron/render-scripts.js';
import { readForPick } from '../../core/pick-read.js';
import { followDocumentBytes, renderProgressReporter } from '../../core/document-bytes.js';

/**
 * `report` gets what the window reports while it renders (render-progress); `signal` is the engine's render-cancel
 * (the window is closed, as OffscreenRenderer.cancel does).
 */
export async function answerWithChromium(req: RenderRequestMessage, executablePath: string, report?: (msg: RenderProgressMessage) => void, signal?: AbortSignal): Promise<RenderAnswerMessage> {
  if (!isRenderRequest(req)) throw new Error('the engine sent a malformed render request');
  const { chromium } = await import('playwright-core');
  const deadline = Date.now() + req.timeoutMs;
  const left = () => Math.max(1, deadline - Date.now());
  let phase: 'launch' | 'load' | 'step' | 'read' = 'launch';
  let stepIndex = 0;
  let failedUrl: string | null = null;
  const fail = (error: string, timedOut = false): RenderAnswerMessage => ({ type: 'render-answer', id: req.id, ok: false, phase, stepIndex, timedOut, error, failedUrl });
  let browser: Browser | null = null;
  const onCancel = () => void browser?.close().catch(() => {});
  signal?.addEventListener('abort', onCancel, { once: true });
  try {
    browser = await chromium.launch({
      executablePath,
      chromiumSandbox: process.getuid?.() !== 0,
      proxy: { server: req.proxy.server, username: req.proxy.username, password: req.proxy.password, bypass: '<-loopback>' },
      args: ['--disable-gpu', '--disable-background-networking'],
      timeout: left(),
    });
    if (signal?.aborted) return fail('cancelled');
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('requestfailed', (r) => {
      if (r.isNavigationRequest() && r.frame() === page.mainFrame()) failedUrl = r.url();
    });
    // As the window does over webContents.debugger: the page's document as it loads, reported to the engine.
    if (report) {
      const cdp = await page.context().newCDPSession(page);
      const onEvent = await followDocumentBytes((method, params) => cdp.send(method as 'Network.enable', params as never), renderProgressReporter(req.id, report));
      for (const method of ['Network.requestWillBeSent', 'Network.responseReceived', 'Network.dataReceived'] as const) cdp.on(method, (params) => onEvent(method, params));
    }
    phase = 'load';
    const response = await page.goto(req.url, { waitUntil: 'load', timeout: left() });
    phase = 'step';
    for (const [i, step] of req.steps.entries()) {
      stepIndex = i;
      if (step.kind === 'sleep') await page.waitForTimeout(Math.min(step.ms, left()));
      else if ((await page.evaluate(stepScript(step, left()))) !== true) return fail('timed out', true);
    }
    await page.waitForLoadState('networkidle', { timeout: Math.min(5_000, left()) }).catch(() => {});
    phase = 'read';
    const headers = response?.headers() ?? {};
    const facts = { url: page.url(), status: response?.status() ?? null, refused: headers['x-panoptes-refused'] ?? null, retryAfter: headers['retry-after'] ?? null };
    if (req.pick) {
      // As the window does: its DevTools protocol, read by the picker's shared code.
      const cdp = await page.context().newCDPSession(page);
      const pick = await readForPick((method, params) => cdp.send(method as 'Runtime.evaluate', params as never), req.pick, left());
      return structuredClone({ type: 'render-answer', id: req.id, ok: true, html: '', screenshot: pick.screenshot ?? new Uint8Array(), pick, ...facts });
    }
    const html = (await page.evaluate(READ_HTML)) as string;
    if (Buffer.byteLength(html) > req.maxBytes) return fail('too large');
    const screenshot = await page.screenshot({ type: 'png', timeout: left() });
    return structuredClone({
      type: 'render-answer',
      id: req.id,
      ok: true,
      url: page.url(),
      html,
      screenshot: new Uint8Array(screenshot),
      status: response?.status() ?? null,
      refused: headers['x-panoptes-refused'] ?? null,
      retryAfter: headers['retry-after'] ?? null,
    });
  } catch (err) {
    if (Date.now() >= deadline - 100) return fail('timed out', true);
    const msg = (err as Error)?.message ?? String(err);
    // Playwright prefixes "page.evaluate: "; the browser's own words stay (the shell's executeJavaScript gives those).
    return fail(msg.replace(/^\w+\.\w+: /, '').split('\n')[0]!);
  } finally {
    signal?.removeEventListener('abort', onCancel);
    await browser?.close().catch(() => {});
  }
}
