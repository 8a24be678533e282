/**
 * OPML in the UI (#17): the Monitors view exports the feeds being watched as an OPML file another reader takes
 * (clicked, the downloaded file read back), and imports one. Before, the buttons lived only in the empty feed's
 * first-run guide, which is gone once anything is watched: the feeds could be exported only while there were none.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openAgentPage, openBrowserPage, startAgent, type Agent, type PageWatch, uiTestOn } from './harness.js';

let agent: Agent;
let browser: Browser;
let page: Page;
let watch: PageWatch;

before(async () => {
  // Paused monitors: nothing is fetched, the feeds are only listed.
  const monitors = [
    { id: 'rss:news', type: 'rss', name: 'News & Views', enabled: false, config: { url: 'http://127.0.0.1:9/news.xml' } },
    { id: 'rss:blog', type: 'rss', name: 'A blog', enabled: false, config: { url: 'https://example.org/feed?x=1&y=2' } },
    { id: 'web:page', type: 'web', name: 'A page', enabled: false, config: { url: 'https://example.org/page' } },
  ];
  agent = await startAgent((dir) => writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ monitors, rules: [] })));
  ({ browser, page, watch } = await openBrowserPage({ acceptDownloads: true }));
  await openAgentPage(page, agent);
});

after(async () => {
  await browser?.close();
  await agent?.stop();
});

const uiTest = uiTestOn(() => page);

uiTest('“Export feeds as OPML” on the Monitors view downloads the watched feeds, names and addresses, and no other monitor', 60_000, async () => {
  await page.getByRole('link', { name: 'Monitors' }).click();
  await page.getByRole('listitem', { name: 'Monitor News & Views' }).waitFor({ timeout: 15_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export feeds as OPML' }).click()]);
  assert.equal(download.suggestedFilename(), 'panoptes-feeds.opml');
  const file = await download.path();
  const opml = readFileSync(file, 'utf8');
  assert.match(opml, /^<\?xml/);
  assert.match(opml, /<opml version="2\.0">/);
  assert.match(opml, /text="News &amp; Views"[^>]*xmlUrl="http:\/\/127\.0\.0\.1:9\/news\.xml"|xmlUrl="http:\/\/127\.0\.0\.1:9\/news\.xml"[^>]*text="News &amp; Views"/);
  assert.match(opml, /xmlUrl="https:\/\/example\.org\/feed\?x=1&amp;y=2"/);
  assert.doesNotMatch(opml, /example\.org\/page/, 'a web page monitor is not a feed');
});

uiTest('an OPML file imports from the Monitors view too, skipping the feeds already watched', 60_000, async () => {
  const file = path.join(os.tmpdir(), `panoptes-opml-export-${process.pid}.opml`);
  writeFileSync(
    file,
    `<?xml version="1.0"?><opml version="2.0"><body><outline type="rss" text="Fresh" xmlUrl="http://127.0.0.1:9/fresh.xml"/><outline type="rss" text="Again" xmlUrl="http://127.0.0.1:9/news.xml"/></body></opml>`,
  );
  await page.getByLabel('Import feeds from an OPML file').setInputFiles(file);
  await page.getByText(/Imported 1 feed from .*, 1 already watched/).waitFor({ timeout: 15_000 });
  await page.getByRole('listitem', { name: 'Monitor Fresh' }).waitFor({ timeout: 15_000 });
});

uiTest('an OPML file over the protocol\'s 4 MiB message limit is refused with the limit and the CLI to use, and the page keeps working', 90_000, async () => {
  // Over 4 MiB of real feeds: sent, the server would close the page's connection (1009) and the import would fail
  // without a word about why.
  const file = path.join(os.tmpdir(), `panoptes-opml-big-${process.pid}.opml`);
  const outlines: string[] = [];
  for (let i = 0, size = 0; size < 5 * 1024 * 1024; i++) {
    const line = `<outline type="rss" text="Big feed ${i} with a description long enough to fill the file" xmlUrl="http://127.0.0.1:9/big-${i}.xml"/>\n`;
    outlines.push(line);
    size += line.length;
  }
  writeFileSync(file, `<?xml version="1.0"?><opml version="2.0"><body>${outlines.join('')}</body></opml>`);
  await page.getByLabel('Import feeds from an OPML file').setInputFiles(file);
  await page.getByText(/Could not import panoptes-opml-big-/).waitFor({ timeout: 15_000 });
  await page.getByText(/up to 4 MiB.*panoptes opml import/).waitFor({ timeout: 15_000 });
  // The connection is still up: a small import right after goes through.
  const small = path.join(os.tmpdir(), `panoptes-opml-after-big-${process.pid}.opml`);
  writeFileSync(small, `<?xml version="1.0"?><opml version="2.0"><body><outline type="rss" text="After the big one" xmlUrl="http://127.0.0.1:9/after.xml"/></body></opml>`);
  await page.getByLabel('Import feeds from an OPML file').setInputFiles(small);
  await page.getByText(/Imported 1 feed from panoptes-opml-after-big-/).waitFor({ timeout: 15_000 });
  await page.getByRole('listitem', { name: 'Monitor After the big one' }).waitFor({ timeout: 15_000 });
  assert.equal(await page.getByRole('listitem', { name: /^Monitor Big feed/ }).count(), 0, 'nothing of the big file was added');
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
});
