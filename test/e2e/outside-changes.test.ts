/**
 * What the UI shows must be what is configured: the CLI (`panoptes opml import`, `rules import`) and hand edits of
 * config.json change the configuration while the agent runs and its page is open. The page shows the change
 * without a reload, a later save in the page keeps it, and an edit that does not validate is refused loudly.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { BIN } from '../helpers/agent-process.js';
import { waitFor } from '../helpers/tmp.js';
import { openAgentPage, openBrowserPage, startAgent, startFeedServer, type Agent, type FeedServer, type PageWatch, uiTestOn } from './harness.js';

let agent: Agent;
let feed: FeedServer;
let browser: Browser;
let page: Page;
let watch: PageWatch;

before(async () => {
  feed = await startFeedServer('Outside Changes Feed');
  agent = await startAgent();
  ({ browser, page, watch } = await openBrowserPage());
  await openAgentPage(page, agent);
});

after(async () => {
  await browser?.close();
  await agent?.stop();
  await feed?.close();
});

const uiTest = uiTestOn(() => page);

function cli(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [BIN, ...args, '--data', agent.dataDir], { encoding: 'utf8', env: { ...process.env, PANOPTES_LOG: 'warn' } });
  return { status: r.status, out: r.stdout + r.stderr };
}

/**
 * The page's CSP forbids evaluating strings, so poll from here. 30 s: a hand edit reaches the page through the
 * agent's file watcher and a push, which took over 10 s once in a full run at load 20 (only a failure waits it out).
 */
async function valueBecomes(field: Locator, value: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await field.inputValue();
    if (last === value) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(last, value);
}

const configOnDisk = () => JSON.parse(readFileSync(path.join(agent.dataDir, 'config.json'), 'utf8')) as { monitors: { name: string }[]; rules: { id: string }[]; settings: { retentionDays: number } };

uiTest('feeds imported with the CLI while the page is open appear in it, and a save in the page keeps them', 90_000, async () => {
  await page.getByRole('link', { name: 'Monitors' }).click();
  const opml = path.join(agent.dataDir, 'feeds.opml');
  writeFileSync(
    opml,
    `<?xml version="1.0"?><opml version="2.0"><head><title>mine</title></head><body>` +
      `<outline type="rss" text="Imported Alpha" xmlUrl="${feed.url}?a"/><outline type="rss" text="Imported Beta" xmlUrl="${feed.url}?b"/></body></opml>`,
  );
  const r = cli('opml', 'import', opml);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /imported 2 feeds/);
  // Pushed to the open page: no reload.
  await page.getByText('Imported Alpha').first().waitFor({ timeout: 10_000 });
  await page.getByText('Imported Beta').first().waitFor();

  // A save in the page (settings) after the import must not undo it.
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Keep events for (days)').fill('45');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Settings saved').waitFor();
  const doc = configOnDisk();
  assert.deepEqual(doc.monitors.map((m) => m.name).sort(), ['Imported Alpha', 'Imported Beta']);
  assert.equal(doc.settings.retentionDays, 45);
});

uiTest('rules imported with the CLI appear in the Rules view, and survive a settings save in the page', 90_000, async () => {
  await page.getByRole('link', { name: 'Rules' }).click();
  const file = path.join(agent.dataDir, 'rules.json');
  writeFileSync(file, JSON.stringify([{ id: 'from-cli', name: 'Imported from the command line', when: { type: 'feed.item' }, then: [{ notify: { title: '{{ event.title }}' } }] }]));
  const r = cli('rules', 'import', file);
  assert.equal(r.status, 0, r.out);
  await page.getByRole('listitem', { name: 'Rule Imported from the command line' }).waitFor({ timeout: 10_000 });

  // Settings saved by the page must not lose a rule added since the page loaded them.
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Keep events for (days)').fill('46');
  await page.getByRole('button', { name: 'Save settings' }).click();
  // "Settings saved" may still stand from the save before this one, so the file itself is what is waited on.
  await waitFor(() => configOnDisk().settings.retentionDays === 46, 'the page to save 46 days');
  assert.ok(configOnDisk().rules.some((x) => x.id === 'from-cli'));
});

uiTest('a hand edit of config.json is taken in; an invalid one is refused with its line, and the app keeps running', 90_000, async () => {
  const file = path.join(agent.dataDir, 'config.json');
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  doc.settings.retentionDays = 12;
  writeFileSync(file, JSON.stringify(doc, null, 2));
  await page.getByRole('link', { name: 'Settings' }).click();
  await valueBecomes(page.getByLabel('Keep events for (days)'), '12');

  const good = readFileSync(file, 'utf8');
  writeFileSync(file, good.replace('"retentionDays": 12', '"retentionDays": "twelve"'));
  const alert = page.getByRole('alert').filter({ hasText: 'config.json was changed but cannot be used' });
  await alert.waitFor({ timeout: 30_000 });
  assert.match(await alert.innerText(), /line \d+/);
  assert.match(await alert.innerText(), /retentionDays/);

  writeFileSync(file, good.replace('"retentionDays": 12', '"retentionDays": 13'));
  await alert.waitFor({ state: 'detached', timeout: 30_000 });
  await valueBecomes(page.getByLabel('Keep events for (days)'), '13');
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
});
