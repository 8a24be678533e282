/**
 * A feed's backfill in the UI, for the tests of received time vs published time (event-time, dashboard-hours): a
 * feed whose items were published 40 days and 3 days ago plus one newer item of the test's, an agent watching it as
 * "Backfill" (`rss:backfill`, current items emitted, so the first check takes them all in at once), and Chromium on
 * the agent's page (1280×900), connected.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openAgentPage, openBrowserPage, startAgent, startFeedServer, type Agent, type FeedItem, type FeedServer, type PageWatch } from './harness.js';

export const DAY = 86_400_000;
export const ago = (ms: number) => new Date(Date.now() - ms);

export interface BackfillPage {
  feed: FeedServer;
  agent: Agent;
  browser: Browser;
  page: Page;
  watch: PageWatch;
  close(): Promise<void>;
}

export async function startBackfillPage(newest: FeedItem): Promise<BackfillPage> {
  const feed = await startFeedServer('Backfill Feed');
  // Published long before they are received: the first check emits them all at once.
  feed.items.push({ guid: 'old-40d', title: 'Forty days old', link: 'http://127.0.0.1/1', description: 'x', pubDate: ago(40 * DAY) });
  feed.items.push({ guid: 'old-3d', title: 'Three days old', link: 'http://127.0.0.1/2', description: 'x', pubDate: ago(3 * DAY) });
  feed.items.push(newest);
  const s: Partial<BackfillPage> = { feed };
  s.close = async () => {
    await s.browser?.close();
    await s.agent?.stop();
    await feed.close();
  };
  try {
    s.agent = await startAgent((dir) =>
      writeFileSync(
        path.join(dir, 'config.json'),
        JSON.stringify({ monitors: [{ id: 'rss:backfill', type: 'rss', name: 'Backfill', enabled: true, config: { url: feed.url, emitCurrentItems: true } }], rules: [] }),
      ),
    );
    Object.assign(s, await openBrowserPage({ viewport: { width: 1280, height: 900 } }));
    await openAgentPage(s.page!, s.agent);
  } catch (err) {
    await s.close();
    throw err;
  }
  return s as BackfillPage;
}
