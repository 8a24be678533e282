/**
 * What the browser tests share: the real headless agent started as a child process, a local RSS server the
 * test controls, and Debian's Chromium driven by playwright-core. Everything listens on 127.0.0.1 and is
 * stopped by the test that started it.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { after, before, test } from 'node:test';
import { startAgent as startAgentProcess } from '../helpers/agent-process.js';

export const ROOT = process.env.PANOPTES_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CHROMIUM = process.env.PANOPTES_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'test-output', 'screenshots');

export interface Agent {
  /** The address the agent printed, with `#token=…`. */
  url: string;
  origin: string;
  token: string;
  dataDir: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `panoptes agent --data <tmp> --port 0` and waits for the line with the UI's address; `prepare` may write the
 * fresh data folder's config and secrets first.
 */
export async function startAgent(prepare?: (dataDir: string) => void): Promise<Agent> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-e2e-'));
  prepare?.(dataDir);
  const agent = await startAgentProcess(dataDir);
  return {
    url: agent.openUrl,
    origin: agent.origin,
    token: agent.token,
    dataDir,
    output: agent.output,
    stop: async () => {
      await agent.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface FeedItem {
  guid: string;
  title: string;
  link: string;
  /** HTML, escaped into the RSS description as publishers do. */
  description: string;
  pubDate?: Date;
}

export interface FeedServer {
  url: string;
  items: FeedItem[];
  /** Serve this raw XML instead of the generated RSS (for corpus files). */
  raw: Map<string, string>;
  requests: number;
  close(): Promise<void>;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A small RSS publisher on 127.0.0.1: `/feed.xml` is built from `items`, newest first; `/raw/NAME` serves `raw`. */
export async function startFeedServer(title = 'E2E Test Feed'): Promise<FeedServer> {
  const state: FeedServer = { url: '', items: [], raw: new Map(), requests: 0, close: async () => {} };
  const server = http.createServer((req, res) => {
    state.requests++;
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    const raw = pathname.startsWith('/raw/') ? state.raw.get(decodeURIComponent(pathname.slice(5))) : undefined;
    if (raw !== undefined) {
      res.writeHead(200, { 'content-type': 'application/xml; charset=utf-8' });
      res.end(raw);
      return;
    }
    if (pathname !== '/feed.xml') {
      res.writeHead(404).end();
      return;
    }
    const body =
      `<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>${xmlEscape(title)}</title>` +
      `<link>http://127.0.0.1/</link><description>test feed</description>` +
      [...state.items]
        .reverse()
        .map(
          (i) =>
            `<item><title>${xmlEscape(i.title)}</title><guid isPermaLink="false">${xmlEscape(i.guid)}</guid><link>${xmlEscape(i.link)}</link>` +
            `<description>${xmlEscape(i.description)}</description><pubDate>${(i.pubDate ?? new Date()).toUTCString()}</pubDate></item>`,
        )
        .join('') +
      `</channel></rss>`;
    res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address() as { port: number };
  state.url = `http://127.0.0.1:${addr.port}/feed.xml`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the browser tests drive Debian's Chromium (apt-get install chromium; .ci/run does it)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

export interface PageWatch {
  /** Uncaught errors, console errors, dialogs and requests to hosts other than 127.0.0.1, as readable lines. */
  problems: string[];
  externalRequests: string[];
  dialogs: string[];
}

/** Records everything on a page that should never happen in our UI. */
export function watchPage(page: Page): PageWatch {
  const w: PageWatch = { problems: [], externalRequests: [], dialogs: [] };
  page.on('pageerror', (e) => w.problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') w.problems.push(`console error: ${m.text()}`);
  });
  page.on('dialog', (d) => {
    w.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['127.0.0.1', 'localhost'].includes(u.hostname) && !['data:', 'blob:'].includes(u.protocol)) w.externalRequests.push(r.url());
  });
  return w;
}

/** Chromium with one page (1280×800 unless the options say otherwise), all that goes wrong on it recorded. */
export async function openBrowserPage(context: BrowserContextOptions = {}): Promise<{ browser: Browser; page: Page; watch: PageWatch }> {
  const browser = await launchChromium();
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, ...context })).newPage();
    return { browser, page, watch: watchPage(page) };
  } catch (err) {
    await browser.close();
    throw err;
  }
}

/** Open the agent's page from the address it printed and wait until it is connected. */
export async function openAgentPage(page: Page, agent: Agent): Promise<void> {
  await page.goto(agent.url);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

/**
 * A UI test whose failure leaves a screenshot of what the page showed (`FAILED-<name>.png`, next to the others).
 * `page` is read when the test fails: the page is opened in `before`, after tests are declared.
 */
export function uiTest(page: () => Page, name: string, options: { timeout: number; skip?: string | false }, fn: () => Promise<void>): void {
  test(name, options, async () => {
    try {
      await fn();
    } catch (err) {
      await screenshot(page(), 'FAILED-' + name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)).catch(() => {});
      throw err;
    }
  });
}

/** `uiTest` on the file's page with just a timeout, as each browser test file declares its tests. */
export function uiTestOn(page: () => Page): (name: string, timeout: number, fn: () => Promise<void>) => void {
  return (name, timeout, fn) => uiTest(page, name, { timeout }, fn);
}

/** What a browser test file's set-up opened: the agent, and Chromium's page connected to it with its problems recorded. */
export interface AgentPage {
  agent: Agent;
  page: Page;
  watch: PageWatch;
}

/**
 * The plain browser test file's set-up: in `before`, a fresh agent and Chromium with one page (1280×800) connected to
 * it, handed to `opened` (the file keeps what its tests use); in `after`, both closed. Returns the file's `uiTest`.
 */
export function agentPageForFile(opened: (o: AgentPage) => void): (name: string, timeout: number, fn: () => Promise<void>) => void {
  let agent: Agent | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  before(async () => {
    agent = await startAgent();
    const b = await openBrowserPage();
    ({ browser, page } = b);
    await openAgentPage(b.page, agent);
    opened({ agent, page: b.page, watch: b.watch });
  });
  after(async () => {
    await browser?.close();
    await agent?.stop();
  });
  return uiTestOn(() => page!);
}
