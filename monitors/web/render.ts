// The rendered fetch: pages built by JavaScript are loaded in a real Chromium (playwright-core drives a browser
// found on the machine; nothing is downloaded), optional steps run (accept a cookie wall, type, wait for the
// content), and the page's HTML after all that, and a screenshot of it, come back for the filter chain.
//
// What the browser may do: it starts with a fresh, empty profile that Playwright makes and removes (never the user's
// own, so no cookies, logins or extensions), downloads, service workers and permissions off. The page's own
// requests may go to the web, but a page on a public address may not reach loopback or private addresses (the
// browser must not become a way into this machine or the home network): all its traffic goes through a checking
// proxy of ours (checking-proxy.ts) that resolves each host once, applies the rule to those addresses and connects
// to exactly them, so neither a redirect nor a name that answers differently the second time gets past it. Only
// http(s) is fetched. The whole render has the check's timeout; the browser and the proxy are closed after every
// check, whatever happened.
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { currentAddressPolicy, isPrivateHost, type AddressPolicy } from '../../base/address-rule.js';
import type { PickAnswer, PickLimits, RenderStepSpec } from '../../core/shell-messages.js';
import { REFUSED_HEADER, startCheckingProxy, type CheckingProxy, type OverLimit, type SizeLimits } from './checking-proxy.js';
import { mib, pageTooLarge } from './readable-error.js';
import { readForPick } from '../../core/pick-read.js';
import { followDocumentBytes, type DocumentBytes } from '../../core/document-bytes.js';

export { isPrivateHost, type AddressPolicy };

/** The same steps whichever browser runs them (an offscreen Electron window is sent them as they are). */
export type RenderStep = RenderStepSpec;

/** One line of the steps field into a step, or what is wrong with it. */
export function parseStep(line: string): RenderStep | string {
  const m = /^(click|type|wait)\s*:\s*(.+)$/is.exec(line.trim());
  if (!m) return `"${line}": write click:<selector>, type:<selector>=<text>, wait:<selector> or wait:2s`;
  const kind = m[1]!.toLowerCase();
  const arg = m[2]!.trim();
  if (kind === 'click') return { kind, selector: arg };
  if (kind === 'type') {
    const eq = arg.indexOf('=');
    if (eq <= 0) return `"${line}": write type:<selector>=<text>, e.g. type:#search=laptop`;
    return { kind, selector: arg.slice(0, eq).trim(), text: arg.slice(eq + 1) };
  }
  const d = /^(\d+(?:\.\d+)?)\s*(ms|s)$/.exec(arg);
  if (d) {
    const ms = Number(d[1]) * (d[2] === 's' ? 1000 : 1);
    return ms > 60_000 ? `"${line}": wait at most 60s` : { kind: 'sleep', ms };
  }
  return { kind: 'wait', selector: arg };
}

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
  'C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe',
];

/** The browser to use: the configured one, PANOPTES_CHROMIUM, or the first usual install location that exists. */
export function findBrowser(configured?: string): string | null {
  if (configured) return existsSync(configured) ? configured : null;
  const env = process.env.PANOPTES_CHROMIUM;
  if (env && existsSync(env)) return env;
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

export class RenderError extends Error {
  override name = 'RenderError';
  constructor(
    message: string,
    /** The page's HTTP status when it answered with an error, and its Retry-After (a 429 or 503 is honoured). */
    readonly status?: number,
    readonly retryAfter?: string | null,
  ) {
    super(message);
  }
}

/**
 * All one render may bring in — the page, its images, scripts, fonts and media — unless the caller says otherwise.
 * Five times the page limit: several times what nearly every real page weighs, and far below what would make the
 * browser hold the machine's memory (a page pulling 50 MB of images, or a video it keeps streaming).
 */
export const MAX_RENDER_TOTAL_BYTES = 25 * 1024 * 1024;

export interface RenderOptions {
  steps: readonly RenderStep[];
  timeoutMs: number;
  /** The page's own limit, as for the plain fetch: its document while it loads, and its HTML as the browser built it. */
  maxBytes: number;
  /** All the render may bring in (MAX_RENDER_TOTAL_BYTES when absent). */
  maxTotalBytes?: number;
  browserPath?: string | undefined;
  signal: AbortSignal;
  /** For the page picker: read the page for picking within these limits instead of its HTML (pick-read.ts). */
  pick?: PickLimits | null;
  /** Tests only: which hosts count as private. */
  addressPolicy?: AddressPolicy;
}

export interface Rendered {
  url: string;
  /** Empty for a pick: the page's HTML never leaves the browser then. */
  html: string;
  /** PNG of the viewport; for a pick, a JPEG of the page's top. */
  screenshot: Buffer;
  /** Set for a pick: what the reading found. */
  pick?: PickAnswer | null;
  /** Requests of the page the address rule refused (up to 20). */
  blocked?: string[];
}

export async function renderPage(url: string, options: RenderOptions): Promise<Rendered> {
  return withRenderedPage(url, options, async (page, left, blocked) => {
    if (options.pick) {
      const cdp = await page.context().newCDPSession(page);
      const pick = await readForPick((method, params) => cdp.send(method as 'Runtime.evaluate', params as never), options.pick, left());
      return { url: page.url(), html: '', screenshot: Buffer.from(pick.screenshot ?? []), pick, blocked: blocked.slice(0, 20) };
    }
    const html = await page.content();
    if (Buffer.byteLength(html) > options.maxBytes) throw new RenderError(pageTooLarge(options.maxBytes, undefined, 'the rendered page'));
    const screenshot = await page.screenshot({ type: 'png', timeout: left() });
    return { url: page.url(), html, screenshot, blocked: blocked.slice(0, 20) };
  });
}

/**
 * Load `url` in a fresh browser under the rules above, run the steps, let the page settle, then hand the page to
 * `read` (with the milliseconds left of the timeout). What `read` does also counts against the timeout; the browser
 * is closed afterwards whatever happened. The page picker (pick.ts) reads the page this way too.
 */
export async function withRenderedPage<T>(
  url: string,
  options: RenderOptions,
  read: (page: Page, left: () => number, blocked: readonly string[]) => Promise<T>,
): Promise<T> {
  const executablePath = findBrowser(options.browserPath);
  if (!executablePath) {
    throw new RenderError(
      options.browserPath
        ? `no browser at ${options.browserPath}; the rendered fetch needs Chromium or Chrome there`
        : 'no Chromium or Chrome found on this machine (looked in the usual places and PANOPTES_CHROMIUM); install one or set the browser path, or turn off "Render with a browser"',
    );
  }
  const policy = options.addressPolicy ?? currentAddressPolicy();
  // The rule is for pages from elsewhere: a page on this machine or the local network (the user's own choice of
  // address, as for the plain fetch) may load what it likes from there.
  const pageIsPrivate = await isPrivateHost(new URL(url).hostname, policy);
  const blocked: string[] = [];
  let proxy: CheckingProxy | null = null;
  let browser: Browser | null = null;
  const deadline = Date.now() + options.timeoutMs;
  const left = () => Math.max(1, deadline - Date.now());
  // Where the render is, so a timeout (which closes the browser under whatever was running) says what did not finish.
  let phase: 'launch' | 'load' | 'step' | 'read' = 'launch';
  let stepIndex = 0;
  let timedOut = false;
  let failedUrl: string | null = null;
  const onAbort = () => void browser?.close().catch(() => {});
  options.signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => {
    timedOut = true;
    onAbort();
  }, options.timeoutMs);
  const timeoutMessage = () => renderTimeoutMessage(phase, url, options.timeoutMs, options.steps, stepIndex);
  // Past the page limit as the browser counts its document (an HTTPS page is a tunnel the proxy cannot measure).
  let documentOver: OverLimit | null = null;
  // Past a size limit the proxy has cut the browser off, or the browser's count passed the page's; closing the
  // browser ends whatever was waiting on the page at once.
  const overLimit = () => {
    const over = proxy?.over ?? documentOver;
    return over ? new RenderError(overLimitMessage(over)) : null;
  };
  try {
    // Loaded on the first rendered check: playwright-core alone is ~50 MB of an idle engine that renders nothing.
    const { chromium } = await import('playwright-core');
    proxy = await startCheckingProxy({ allowPrivate: pageIsPrivate, policy, blocked, limits: sizeLimits(url, options) });
    void proxy.overLimit.then(onAbort);
    browser = await chromium.launch({
      executablePath,
      // Chromium refuses to start its sandbox as root; everywhere else the sandbox stays on.
      chromiumSandbox: process.getuid?.() !== 0,
      // Everything through the proxy, loopback included (Chromium sends localhost and 127.0.0.1 past a proxy unless
      // told "<-loopback>"; Playwright adds it too, but not when PLAYWRIGHT_DISABLE_FORCED_CHROMIUM_PROXIED_LOOPBACK
      // is set, so it is said here).
      proxy: { server: proxy.server, username: proxy.username, password: proxy.password, bypass: '<-loopback>' },
      args: [
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-extensions',
        // What could leave beside the proxy: WebRTC's UDP (kept to proxied TCP) and QUIC.
        '--force-webrtc-ip-handling-policy=disable_non_proxied_udp',
        '--disable-quic',
      ],
      timeout: left(),
    });
    if (options.signal.aborted) throw options.signal.reason;
    const context = await browser.newContext({ acceptDownloads: false, serviceWorkers: 'block', viewport: { width: 1280, height: 900 }, javaScriptEnabled: true });
    // Addresses are the proxy's to judge (it sees every redirect and WebSocket, and where a name really leads); here
    // only the scheme: nothing but http(s) leaves the browser.
    await context.route(/^(?!https?:|data:|blob:)/i, (route) => {
      blocked.push(route.request().url());
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    const onEvent = await followDocumentBytes(
      (method, params) => cdp.send(method as 'Network.enable', params as never),
      (d) => {
        const over = documentOverLimit(d, options.maxBytes);
        if (over && !documentOver) {
          documentOver = over;
          onAbort();
        }
      },
    );
    for (const method of ['Network.requestWillBeSent', 'Network.responseReceived', 'Network.dataReceived'] as const) cdp.on(method, (params) => onEvent(method, params));
    // Where the page itself failed to load (after redirects), so the message names the host that failed, not only
    // the address the user typed.
    page.on('requestfailed', (r) => {
      if (r.isNavigationRequest() && r.frame() === page.mainFrame()) failedUrl = r.url();
    });
    phase = 'load';
    const response = await page.goto(url, { waitUntil: 'load', timeout: left() });
    // The proxy refused the page itself (a redirect into the local network); the page's own server cannot fake this,
    // the proxy must have refused that very host.
    const refused = response?.headers()[REFUSED_HEADER];
    if (refused && proxy.refusals.get(hostOf(response!.url())) === refused) throw new RenderError(`${url}: ${refused}`);
    if (response && response.status() >= 590) throw new RenderError(`${url}: ${proxyFailure(response.status())}`);
    if (response && response.status() >= 400) throw new RenderError(`${url} answered HTTP ${response.status()}; not treated as a change`, response.status(), response.headers()['retry-after'] ?? null);
    phase = 'step';
    for (const [i, step] of options.steps.entries()) {
      stepIndex = i;
      if (step.kind === 'click') await page.click(step.selector, { timeout: left() });
      else if (step.kind === 'type') await page.fill(step.selector, step.text, { timeout: left() });
      else if (step.kind === 'wait') await page.waitForSelector(step.selector, { timeout: left() });
      else await page.waitForTimeout(Math.min(step.ms, left()));
    }
    // Let what the steps started settle (a click that loads the content), within the time left.
    await page.waitForLoadState('networkidle', { timeout: Math.min(5_000, left()) }).catch(() => {});
    phase = 'read';
    const result = await read(page, left, blocked);
    const over = overLimit();
    if (over) throw over;
    return result;
  } catch (err) {
    const over = overLimit();
    if (over) throw over;
    if (err instanceof RenderError) throw err;
    if (options.signal.aborted) throw options.signal.reason ?? err;
    const msg = ((err as Error)?.message ?? String(err)).split('\n')[0]!;
    if (timedOut || Date.now() >= deadline - 100 || /Timeout \d+ms exceeded/.test(msg)) throw new RenderError(timeoutMessage());
    const where = phase === 'step' ? `step ${stepIndex + 1} (${stepText(options.steps[stepIndex]!)}): ` : '';
    throw new RenderError(where + describe(msg, url, failedUrl, proxy, phase === 'load'));
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener('abort', onAbort);
    await browser?.close().catch(() => {});
    await proxy?.close().catch(() => {});
  }
}

/** The proxy's limits for a render of `url` (checking-proxy.ts counts; the numbers are the caller's). */
export function sizeLimits(url: string, options: Pick<RenderOptions, 'maxBytes' | 'maxTotalBytes'>): SizeLimits {
  return { pageUrl: url, maxPageBytes: options.maxBytes, maxTotalBytes: options.maxTotalBytes ?? MAX_RENDER_TOTAL_BYTES };
}

/** The page's document, as the browser counts it while it loads, past the page limit: at its headers when they say so. */
export function documentOverLimit(d: DocumentBytes, maxBytes: number): OverLimit | null {
  if (d.declared !== null && d.declared > maxBytes) return { kind: 'page', limit: maxBytes, declared: d.declared };
  return d.bytes > maxBytes ? { kind: 'page', limit: maxBytes } : null;
}

/** A passed size limit in the words the plain fetch uses for the page's own (readable-error.ts). */
export function overLimitMessage(over: OverLimit): string {
  if (over.kind === 'page') return pageTooLarge(over.limit, over.declared);
  return `the page and what it loads came to more than the ${mib(over.limit)} a rendered page may bring in; not read`;
}

/** What did not finish when the check's timeout ran out, by where the render was. */
export function renderTimeoutMessage(phase: 'launch' | 'load' | 'step' | 'read', url: string, timeoutMs: number, steps: readonly RenderStep[], stepIndex: number): string {
  const secs = `${Math.round(timeoutMs / 1000)} s`;
  if (phase === 'launch') return `the browser did not start within ${secs} (the check's timeout)`;
  if (phase === 'load') return `${url} did not finish loading within ${secs} (the check's timeout)`;
  if (phase === 'read') return `${url} loaded, but reading it took longer than the check's timeout (${secs}); is the page very large?`;
  return `step ${stepIndex + 1} (${stepText(steps[stepIndex]!)}): not done within the check's timeout (${secs}); is the selector right?`;
}

export function stepText(s: RenderStep): string {
  return s.kind === 'sleep' ? `wait:${s.ms}ms` : s.kind === 'type' ? `type:${s.selector}` : `${s.kind}:${s.selector}`;
}

/** What the proxy (proxy-chain) answers when it could not reach a plain-HTTP page, in the browser's words. */
const PROXY_FAILURES: Record<number, string> = { 593: 'not a known host name', 594: 'connection refused (is it running?)', 595: 'the connection was reset', 596: 'the connection was closed' };

export function proxyFailure(status: number): string {
  return PROXY_FAILURES[status] ?? 'could not be reached';
}

/** A failed render in the plain fetch's words: the proxy's refusal, a network error, or the browser's own message. */
export function describe(msg: string, url: string, failedUrl: string | null, proxy: Pick<CheckingProxy, 'refusals'> | null, loading: boolean): string {
  // An HTTPS page refused by the proxy fails as a tunnel; the proxy knows why. The page may have been redirected
  // first (http://… → https://a private address): then the refused host is where it failed, or else the last one the
  // proxy refused (before the page has a document, only its own navigation goes through the proxy).
  if (/ERR_TUNNEL_CONNECTION_FAILED|ERR_EMPTY_RESPONSE/.test(msg) && proxy) {
    const refused = proxy.refusals.get(hostOf(failedUrl ?? url)) ?? (loading ? [...proxy.refusals.values()].at(-1) : undefined);
    if (refused) return `${url}: ${refused}`;
  }
  const code = /net::(ERR_[A-Z_]+)/.exec(msg)?.[1];
  const words = code ? browserNetError(code, new URL(failedUrl ?? url).host) : null;
  if (words) return `${url}: ${words}`;
  return msg.replace(/^\w+\.\w+: /, '');
}

export function hostOf(u: string): string {
  // As the proxy keys them: lower case, IPv6 without brackets.
  return new URL(u).hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

/**
 * Chromium's network error codes (net::ERR_…) for the page itself, in the words the plain fetch uses for the same
 * failure (base/http.ts, base/tls.ts), so a rendered and a plain check of one page say the same thing. Null for a
 * code without words here: the caller keeps Chromium's own message.
 */
export function browserNetError(code: string, host: string): string | null {
  switch (code) {
    case 'ERR_CERT_AUTHORITY_INVALID':
    case 'ERR_CERT_INVALID':
    case 'ERR_CERT_SYMANTEC_LEGACY':
      return `certificate not trusted: ${host} presented a certificate, but it is not signed by a CA the browser trusts`;
    case 'ERR_CERT_COMMON_NAME_INVALID':
      return `certificate not trusted: ${host} presented a certificate for another host name`;
    case 'ERR_CERT_DATE_INVALID':
      return `certificate not trusted: the certificate of ${host} has expired or is not valid yet (is this machine's clock right?)`;
    case 'ERR_CERT_REVOKED':
      return `certificate not trusted: the certificate of ${host} has been revoked`;
    case 'ERR_CERT_WEAK_SIGNATURE_ALGORITHM':
    case 'ERR_CERT_WEAK_KEY':
      return `certificate not trusted: the certificate of ${host} uses a signature or key too weak to trust`;
    case 'ERR_SSL_PROTOCOL_ERROR':
    case 'ERR_SSL_VERSION_OR_CIPHER_MISMATCH':
    case 'ERR_SSL_OBSOLETE_VERSION_OR_CIPHER':
      return `could not make a secure (TLS) connection with ${host}: it speaks no TLS version or cipher the browser accepts`;
    case 'ERR_CONNECTION_REFUSED':
      return 'connection refused (is it running?)';
    case 'ERR_NAME_NOT_RESOLVED':
      return 'not a known host name';
    case 'ERR_TUNNEL_CONNECTION_FAILED':
      return 'could not connect (refused, or nothing answers there)';
    case 'ERR_CONNECTION_RESET':
      return `the connection to ${host} was reset`;
    case 'ERR_CONNECTION_CLOSED':
    case 'ERR_EMPTY_RESPONSE':
      return `${host} closed the connection without an answer`;
    case 'ERR_CONNECTION_TIMED_OUT':
    case 'ERR_TIMED_OUT':
      return `${host} did not answer in time`;
    case 'ERR_ADDRESS_UNREACHABLE':
    case 'ERR_INTERNET_DISCONNECTED':
      return `${host} is unreachable`;
    case 'ERR_TOO_MANY_REDIRECTS':
      return 'redirected too many times (a redirect loop?)';
    default:
      return code.startsWith('ERR_CERT_') ? `certificate not trusted: the certificate of ${host} was refused (${code})` : null;
  }
}
