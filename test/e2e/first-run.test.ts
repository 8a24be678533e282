/**
 * From nothing to a first notified feed item without reading docs: an empty data folder opens on a first-run
 * guide; a site's address (an HTML page naming its feed, as blogs do) is enough to watch its feed; the guide says
 * how many items were remembered; a new item is then notified by the built-in rule. The same feed offered again is
 * named as already watched. The guide's other starters open the generated monitor forms; OPML imports in the page.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import WebSocket from 'ws';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, screenshot, startAgent, startFeedServer, watchPage, type Agent, type FeedServer, type PageWatch, uiTest as harnessUiTest } from './harness.js';

let agent: Agent;
let feed: FeedServer;
let site: http.Server;
let siteUrl: string;
let browser: Browser;
let page: Page;
let watch: PageWatch;

before(async () => {
  feed = await startFeedServer('The Example Blog');
  feed.items.push({ guid: 'a', title: 'Hello world', link: 'http://127.0.0.1/a', description: 'first', pubDate: new Date(Date.now() - 7200_000) });
  feed.items.push({ guid: 'b', title: 'Second post', link: 'http://127.0.0.1/b', description: 'second', pubDate: new Date(Date.now() - 3600_000) });
  // The blog's home page: HTML whose head names the feed, the way browsers and readers discover it.
  site = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><title>Example Blog</title><link rel="alternate" type="application/rss+xml" title="Posts" href="${feed.url}"></head><body><h1>Example</h1></body></html>`);
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  siteUrl = `127.0.0.1:${(site.address() as { port: number }).port}/blog/`;
  agent = await startAgent();
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: 'light' })).newPage();
  watch = watchPage(page);
});

after(async () => {
  await browser?.close();
  await agent?.stop();
  await feed?.close();
  site?.close();
});

const uiTest = (name: string, timeout: number, fn: () => Promise<void>) => harnessUiTest(() => page, name, { timeout }, fn);

uiTest('an empty data folder opens on a guide with one-step starters', 60_000, async () => {
  await page.goto(agent.url);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  const guide = page.getByRole('region', { name: 'Get started' });
  await guide.waitFor();
  await guide.getByLabel(/A website or blog/).waitFor();
  await guide.getByRole('button', { name: 'A mail account' }).waitFor();
  await guide.getByRole('button', { name: 'A log file' }).waitFor();
  await guide.getByRole('button', { name: 'Weather for a place' }).waitFor();
  await guide.getByLabel('OPML file to import').waitFor();
  // Nothing is watched yet: an export would be an empty file (the Monitors view exports once there are feeds).
  assert.equal(await guide.getByRole('button', { name: /Export/ }).count(), 0, 'the guide offers no export of nothing');
  await screenshot(page, 'first-run');
});

uiTest('a site’s address (its HTML page) finds its feed; watching it says how many items were remembered', 90_000, async () => {
  const guide = page.getByRole('region', { name: 'Get started' });
  await guide.getByLabel(/A website or blog/).fill('http://' + siteUrl);
  await guide.getByRole('button', { name: 'Find feed' }).click();
  const found = guide.getByRole('list', { name: 'Feeds found' });
  await found.getByText('The Example Blog').waitFor({ timeout: 20_000 });
  await found.getByText(/2 items now/).waitFor();
  await found.getByRole('button', { name: 'Watch' }).click();
  await guide.getByText('Watching “The Example Blog”: 2 items remembered, new ones will appear here.').waitFor({ timeout: 15_000 });
});

uiTest('a new item of the watched feed arrives in the feed and is notified by the built-in rule', 120_000, async () => {
  feed.items.push({ guid: 'c', title: 'Third post, the first news', link: 'http://127.0.0.1/c', description: 'third' });
  await page.getByRole('link', { name: 'Monitors' }).click();
  const card = page.getByRole('listitem', { name: 'Monitor The Example Blog' });
  await card.locator('.status-ok').waitFor({ timeout: 30_000 });
  await card.getByRole('button', { name: 'Check now' }).click();
  await page.getByRole('link', { name: 'Feed' }).click();
  await page.getByRole('listitem', { name: /Third post, the first news/ }).waitFor({ timeout: 30_000 });
  assert.equal(await page.getByRole('listitem', { name: /Hello world/ }).count(), 0, 'remembered items are not news');
  await page.getByRole('region', { name: 'Notifications' }).getByText(/Third post, the first news/).first().waitFor({ timeout: 30_000 });
});

uiTest('offering the same feed again names the monitor that already watches it', 60_000, async () => {
  // The guide stays out of the way once something is watched, so ask the protocol as the page does.
  const socket = new WebSocket(`ws://${new URL(agent.origin).host}/ws`, ['panoptes.v1'], { headers: { Authorization: `Bearer ${agent.token}` } });
  await new Promise((res, rej) => (socket.once('open', res), socket.once('error', rej)));
  const reply = await new Promise<{ ok: boolean; result: { feeds: { watchedBy: string | null }[] } }>((resolve) => {
    socket.once('message', (d) => resolve(JSON.parse(String(d))));
    socket.send(JSON.stringify({ kind: 'req', id: 1, method: 'monitors.discoverFeed', params: { url: 'http://' + siteUrl } }));
  });
  socket.close();
  assert.equal(reply.ok, true);
  assert.equal(reply.result.feeds[0]!.watchedBy, 'The Example Blog');
});

uiTest('the mail starter opens the generated mail form; an OPML file imports in the page', 60_000, async () => {
  // A second, empty agent: the guide shows while nothing is watched.
  const second = await startAgent();
  try {
    const p2 = await page.context().newPage();
    await p2.goto(second.url);
    const guide = p2.getByRole('region', { name: 'Get started' });
    await guide.getByRole('button', { name: 'A mail account' }).click();
    await p2.getByRole('heading', { name: /mail/i }).first().waitFor();
    await p2.getByLabel(/IMAP server|Server|Host/i).first().waitFor();
    await p2.getByRole('link', { name: 'Feed' }).click();
    const opml = path.join(os.tmpdir(), `panoptes-first-run-${process.pid}.opml`);
    writeFileSync(opml, `<?xml version="1.0"?><opml version="2.0"><body><outline type="rss" text="From OPML" xmlUrl="${feed.url}?o"/></body></opml>`);
    await p2.getByRole('region', { name: 'Get started' }).getByLabel('OPML file to import').setInputFiles(opml);
    await p2.getByText(/Imported 1 feed from/).waitFor({ timeout: 15_000 });
    await p2.close();
  } finally {
    await second.stop();
  }
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
});
