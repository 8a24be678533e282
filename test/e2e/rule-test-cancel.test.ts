/**
 * Testing a rule against a long history runs in the engine's worker thread, shows its progress, and the builder's
 * "Cancel test" stops it: the panel says the test was cancelled and after how many events, the Test button is back,
 * and the engine went on meanwhile (a webhook sent during the test is acknowledged and lands in the feed).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openAgentPage, openBrowserPage, startAgent, type Agent, type PageWatch, uiTestOn } from './harness.js';
import { openStore } from '../../core/store/index.js';
import type { PanoptesEvent } from '../../core/event.js';
import { newId } from '../../core/ids.js';

/** Long enough that reading and replaying it takes seconds on any machine (the test's own budget is 200,000). */
const EVENTS = 150_000;
const SECRET = 'a-long-enough-hook-secret';

let agent: Agent;
let browser: Browser;
let page: Page;
let watch: PageWatch;

/** A history received over the last day, written before the agent starts, indexed and marked as processed. */
function seedHistory(dir: string): void {
  const store = openStore(dir);
  try {
    const start = Date.now() - 24 * 3600_000;
    for (let i = 0; i < EVENTS; i += 10_000) {
      const batch: PanoptesEvent[] = [];
      for (let j = i; j < Math.min(EVENTS, i + 10_000); j++) {
        const t = start + j * 500;
        const at = new Date(t).toISOString();
        // Time-sorted ids as the engine makes them: the feed orders a live event among these by id.
        batch.push({ id: newId(t), ts: at, receivedAt: at, source: 'rss:news', type: 'feed.item', title: `item ${j} about things`, body: 'b'.repeat(200), url: null, fields: { n: j, feed: `f${j % 50}` }, tags: [] });
      }
      store.tx(() => store.events.append(batch));
    }
    store.events.indexAll();
    store.cursors.set('rules', store.events.maxSeq(), null);
  } finally {
    store.close();
  }
}

before(async () => {
  agent = await startAgent((dir) => {
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ monitors: [{ id: 'webhook:ci', type: 'webhook', name: 'CI', enabled: true, config: { hookId: 'ci' } }], rules: [] }));
    writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ 'webhook:ci': { secret: SECRET } }), { mode: 0o600 });
    seedHistory(dir);
  });
  ({ browser, page, watch } = await openBrowserPage({ viewport: { width: 1280, height: 900 } }));
  await openAgentPage(page, agent);
});

after(async () => {
  await browser?.close();
  await agent?.stop();
});

const uiTest = uiTestOn(() => page);

uiTest('Cancel test stops a long rule test, says so, and the engine went on meanwhile', 180_000, async () => {
  await page.getByRole('link', { name: 'Rules' }).click();
  await page.getByRole('button', { name: 'New rule' }).click();
  await page.getByRole('tab', { name: 'JSON' }).click();
  const rule = { id: 'bursts', name: 'Bursts', when: { type: 'feed.item' }, if: { field: 'title', matches: 'item \\d+7 about' }, pattern: { count: 3, within: '1h', by: 'fields.feed' }, then: [{ notify: { title: '{{ count }} in {{ fields.feed }}' } }] };
  await page.getByLabel('Rule JSON').fill(JSON.stringify(rule, null, 2));
  await page.getByText('The engine accepts this rule.').waitFor({ timeout: 30_000 });
  // The whole day: the default range (the last 7 days) holds it.
  const panel = page.getByRole('region', { name: 'Test against history' });
  await panel.getByRole('button', { name: 'Test against history' }).click();
  await panel.getByRole('button', { name: 'Testing…' }).waitFor();
  // Its progress, pushed by the engine as the worker reads and replays.
  const status = panel.getByRole('status');
  await status.filter({ hasText: /(Reading|Replaying) [\d,]+ events…/ }).waitFor({ timeout: 60_000 });

  // While the test runs, the engine takes a webhook in and acknowledges it.
  const hook = await fetch(`${agent.origin}/hooks/ci`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-panoptes-secret': SECRET },
    body: JSON.stringify({ title: 'Deploy finished during the test' }),
  });
  assert.equal(hook.status, 200);
  const cancel = panel.getByRole('button', { name: 'Cancel test' });
  assert.ok(await cancel.isVisible(), 'the test was still running when the webhook was acknowledged');

  await cancel.click();
  const result = panel.getByRole('region', { name: 'History test result' });
  const note = result.getByRole('note');
  await note.waitFor({ timeout: 30_000 });
  assert.match(await note.innerText(), /Not the whole range: cancelled (after [\d,]+ events|before it started)\./);
  const scanned = Number((await result.locator('.rb-test-summary').innerText()).match(/over ([\d,]+) events?/)![1]!.replace(/,/g, ''));
  assert.ok(scanned < EVENTS, `the cancelled test stopped early (${scanned} of ${EVENTS} events)`);
  // The run is over: the button is back, no progress is shown, nothing to cancel.
  await panel.getByRole('button', { name: 'Test against history' }).waitFor();
  assert.ok(await panel.getByRole('button', { name: 'Test against history' }).isEnabled());
  assert.equal(await panel.getByRole('button', { name: 'Cancel test' }).count(), 0);
  assert.equal(await status.count(), 0);

  // The webhook's event is in the feed.
  await page.getByRole('link', { name: 'Feed' }).click();
  await page.getByRole('listitem', { name: /Deploy finished during the test/ }).waitFor({ timeout: 30_000 });
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
});
