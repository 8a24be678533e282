/**
 * Every hostile sample of feedparser's sanitize corpus, brought in by the real RSS monitor of the real agent,
 * opened one by one in the event detail pane of the real UI in Chromium: no script runs, no handler fires, no
 * dialog opens, no page error, no request leaves 127.0.0.1, and the rendered DOM holds nothing active.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROOT, launchChromium, screenshot, startAgent, startFeedServer, watchPage, type Agent, type FeedServer, type PageWatch } from '../e2e/harness.js';
import { connectTo } from '../helpers/ws-client.js';

const CORPUS = process.env.PANOPTES_CORPUS ?? path.resolve(ROOT, '..', 'shared', 'corpus');
const SANITIZE_DIR = path.join(CORPUS, 'feeds', 'feedparser', 'tests', 'wellformed', 'sanitize');

interface Combined {
  name: string;
  xml: string;
  entries: number;
}

/**
 * The corpus is one tiny feed per sample. Samples that share a root element (same feed format and namespaces)
 * are joined into one feed, each entry given a unique id, so a handful of monitors bring in all of them.
 */
function combineCorpus(): Combined[] {
  const groups = new Map<string, { root: string; close: string; parts: string[] }>();
  for (const file of readdirSync(SANITIZE_DIR).filter((f) => f.endsWith('.xml')).sort()) {
    const text = readFileSync(path.join(SANITIZE_DIR, file), 'utf8');
    const root = /<(feed|rss)\b[^>]*>/.exec(text);
    if (!root) continue;
    const isAtom = root[1] === 'feed';
    const tag = isAtom ? 'entry' : 'item';
    const id = `tag:panoptes.test,2024:${file}`;
    let channelHead = '';
    if (!isAtom) channelHead = /<channel>/.test(text) ? '' : '';
    const blocks = text.match(new RegExp(`<${tag}\\b[^>]*>[\\s\\S]*?</${tag}>`, 'g')) ?? [];
    // A sample whose hostile part is in the feed head (no entry) gets an entry that carries it as content.
    const key = root[0];
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { root: root[0], close: isAtom ? '</feed>' : '</channel></rss>', parts: [] }));
    for (const b of blocks) {
      const idTag = isAtom ? `<id>${id}</id>` : `<guid isPermaLink="false">${id}</guid>`;
      g.parts.push(b.replace(new RegExp(`^<${tag}\\b[^>]*>`), (open) => open + idTag));
    }
    void channelHead;
  }
  return [...groups.values()].map((g, i) => {
    const isAtom = g.root.startsWith('<feed');
    const head = isAtom ? `${g.root}<title>Sanitize corpus ${i}</title><id>tag:panoptes.test,2024:group-${i}</id>` : `${g.root}<channel><title>Sanitize corpus ${i}</title><link>http://127.0.0.1/</link><description>corpus</description>`;
    return { name: `group-${i}.xml`, xml: `<?xml version="1.0" encoding="utf-8"?>\n${head}${g.parts.join('\n')}${g.close}`, entries: g.parts.length };
  });
}

let agent: Agent;
let feeds: FeedServer;
let browser: Browser;
let page: Page;
let watch: PageWatch;
let expected = 0;
let stored = 0;

before(async () => {
  feeds = await startFeedServer();
  const combined = combineCorpus();
  assert.ok(combined.length > 0, `no samples found in ${SANITIZE_DIR}`);
  agent = await startAgent();
  const rpc = await connectTo(agent); // sets the scene quickly (the clicking is covered by the e2e test)
  for (const c of combined) {
    feeds.raw.set(c.name, c.xml);
    expected += c.entries;
    await rpc.call('monitors.add', {
      type: 'rss',
      name: `Corpus ${c.name}`,
      config: { url: feeds.url.replace('/feed.xml', '/raw/' + c.name), emitCurrentItems: true },
    });
  }
  // Wait until every monitor has finished its first check, then until the stored count holds still.
  for (let i = 0; i < 120; i++) {
    const list = await rpc.call<{ health: { lastSuccess: string | null } }[]>('monitors.list', {});
    if (list.length === combined.length && list.every((m) => m.health.lastSuccess)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  for (let i = 0, last = -1; i < 60; i++) {
    ({ count: stored } = await rpc.call<{ count: number }>('events.count', { type: 'feed.item' }));
    if (stored === last) break;
    last = stored;
    await new Promise((r) => setTimeout(r, 1000));
  }
  rpc.close();
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  watch = watchPage(page);
});

after(async () => {
  await browser?.close();
  await agent?.stop();
  await feeds?.close();
});

test('every sanitize-corpus sample renders inert in the event detail pane', { timeout: 600_000 }, async () => {
  const navigations: string[] = [];
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame() && !f.url().startsWith(agent.origin)) navigations.push(f.url());
  });
  await page.goto(agent.url);
  await page.locator('.feed-row').first().waitFor({ timeout: 30_000 });
  // Load the whole feed into the list (it pages in as the end comes into view).
  const total = await page.evaluate(`(async () => {
    const el = document.querySelector('.feed-scroll');
    let last = -1;
    for (let i = 0; i < 200; i++) {
      el.scrollTop = el.scrollHeight;
      await new Promise((r) => setTimeout(r, 150));
      const n = Number(/([\\d,]+) loaded/.exec(document.querySelector('.statusline').textContent)[1].replace(/,/g, ''));
      if (n >= ${stored} || (n === last && i > 20)) return n;
      last = n;
    }
    return last;
  })()`);
  // A few samples are not valid enough for the feed parser to yield an item; nearly all must arrive.
  assert.ok(stored >= expected * 0.9, `the agent should have stored (nearly) every sample: ${stored} of ${expected}`);
  assert.equal(Number(total), stored, 'the feed list loads every stored event');

  // Walk the feed with the keyboard (j), checking the rendered detail of each event, until the end.
  const seen = new Set<string>();
  const active: string[] = [];
  await page.evaluate(`document.querySelector('.feed-scroll').scrollTop = 0`);
  await page.locator('.feed-row').first().click();
  for (let i = 0; i < Number(total) + 5; i++) {
    const current = await page.locator('.feed-row.selected').getAttribute('data-event-id');
    if (!current || seen.has(current)) break;
    seen.add(current);
    await page.locator('.event-detail .event-id', { hasText: current }).waitFor();
    const found = (await page.evaluate(`(() => {
      const bad = [];
      // The untrusted parts: the sanitized body, and the title (which must stay text).
      const title = document.querySelector('.event-detail h2');
      if (title && title.querySelector('*:not(em)')) bad.push('markup in the title');
      for (const el of document.querySelectorAll('.event-detail .html-body *')) {
        const tag = el.tagName.toLowerCase();
        if (['script', 'iframe', 'frame', 'object', 'embed', 'style', 'link', 'meta', 'base', 'form', 'svg', 'math', 'applet'].includes(tag)) bad.push('<' + tag + '>');
        for (const a of el.attributes) {
          if (/^on/i.test(a.name)) bad.push(tag + '[' + a.name + ']');
          if (a.name === 'style') bad.push(tag + '[style]');
          if (['href', 'src', 'action', 'formaction', 'xlink:href'].includes(a.name) && /^\\s*(javascript|vbscript|data):/i.test(a.value)) bad.push(tag + '[' + a.name + '=' + a.value.slice(0, 30) + ']');
          if (tag === 'img' && a.name === 'src') bad.push('img[src] loaded without asking');
        }
      }
      return bad.length ? [(title ? title.textContent : '?') + ': ' + bad.join(', ')] : [];
    })()`)) as string[];
    active.push(...found);
    await page.keyboard.press('j');
    // Wait for the selection to move on; at the last event it stays put, and the walk ends.
    // (Polled with evaluate: waitForFunction compiles its predicate in the page, which our CSP rightly forbids.)
    for (let t = 0; t < 60; t++) {
      if ((await page.evaluate(`document.querySelector('.feed-row.selected')?.dataset.eventId`)) !== current) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await screenshot(page, 'sanitize-corpus');
  assert.equal(seen.size, Number(total), 'every stored sample was opened');
  assert.deepEqual(active, [], 'active content survived sanitizing');
  assert.deepEqual(watch.dialogs, [], 'a hostile sample opened a dialog');
  assert.deepEqual(watch.problems, [], 'errors on the page (a blocked script or handler reports one)');
  assert.deepEqual(watch.externalRequests, [], 'a sample made the page fetch from outside');
  assert.deepEqual(navigations, [], 'a sample navigated the page away');
});
