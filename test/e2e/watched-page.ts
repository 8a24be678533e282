/**
 * A watched page for the diff e2e files (web-diff, web-diff-link, web-diff-notification): a local shop page whose
 * HTML the test changes, the real agent watching its `#prices` (checked by hand with monitors.checkNow; the interval
 * is an hour) with the default rule that notifies page changes, a protocol connection to that agent, and Debian's
 * Chromium with one page.
 */
import { after, before } from 'node:test';
import http from 'node:http';
import type net from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { defaultRules } from '../../engine/default-rules.js';
import { connectProtocol, type ProtocolClient } from '../helpers/protocol-client.js';
import { launchChromium, startAgent, uiTestOn, watchPage, type Agent, type PageWatch } from './harness.js';

export interface WatchedPage {
  agent: Agent;
  browser: Browser;
  page: Page;
  watch: PageWatch;
  protocol: ProtocolClient;
  /** Waits (a minute at most) until the watch keeps at least n versions; their ids, oldest first. */
  versions(n: number): Promise<number[]>;
  close(): Promise<void>;
}

export interface WatchedPageOptions {
  /** What the page's browser context needs before the page is made (permissions, init scripts), given the agent. */
  prepareContext?: (context: BrowserContext, agent: Agent) => Promise<void>;
}

/** `html` is read at every request: change what it returns, then check now. */
export async function startWatchedPage(monitor: { id: string; name: string }, html: () => string, options: WatchedPageOptions = {}): Promise<WatchedPage> {
  const shop = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html());
  });
  await new Promise<void>((r) => shop.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(shop.address() as net.AddressInfo).port}/prices`;
  const w: Partial<WatchedPage> = {};
  w.close = async () => {
    w.protocol?.close();
    await w.browser?.close();
    await w.agent?.stop();
    await new Promise((r) => shop.close(r));
  };
  try {
    w.agent = await startAgent((dir) => {
      writeFileSync(
        path.join(dir, 'config.json'),
        JSON.stringify({
          monitors: [{ ...monitor, type: 'web', config: { url, selector: '#prices', interval: '1h' } }],
          rules: defaultRules().filter((r) => (r as { id: string }).id === 'default-notify-web-changes'),
        }),
      );
    });
    const protocol = (w.protocol = await connectProtocol({ port: Number(new URL(w.agent.origin).port), token: w.agent.token }));
    w.browser = await launchChromium();
    const context = await w.browser.newContext({ viewport: { width: 1280, height: 860 } });
    await options.prepareContext?.(context, w.agent);
    w.page = await context.newPage();
    w.watch = watchPage(w.page);
    w.versions = async (n) => {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const { versions } = await protocol.call<{ versions: { id: number }[] }>('versions.list', { monitorId: monitor.id });
        if (versions.length >= n) return versions.map((v) => v.id).reverse();
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`the watch did not keep ${n} versions in a minute`);
    };
  } catch (err) {
    await w.close();
    throw err;
  }
  return w as WatchedPage;
}

/**
 * A diff file's set-up: the watched page started in `before` and handed to `started` (the file keeps what its tests
 * use), closed in `after`. Returns the file's `uiTest`.
 */
export function watchedPageForFile(
  monitor: { id: string; name: string },
  html: () => string,
  started: (w: WatchedPage) => void,
  options: WatchedPageOptions = {},
): (name: string, timeout: number, fn: () => Promise<void>) => void {
  let setup: WatchedPage | undefined;
  before(async () => {
    setup = await startWatchedPage(monitor, html, options);
    started(setup);
  });
  after(() => setup?.close());
  return uiTestOn(() => setup!.page);
}
