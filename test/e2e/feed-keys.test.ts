/**
 * Moving through the feed with the keyboard, in Debian's Chromium against the real agent: events from two webhook
 * monitors, arriving interleaved, so grouping by source reorders the rows and puts headers between them. j/k walk the
 * rows in the order shown, skip the headers, and stop at either end. The source menu learns sources as events arrive.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openAgentPage, openBrowserPage, startAgent, type Agent, type PageWatch, uiTestOn } from './harness.js';

const SECRET = 'a-long-enough-hook-secret';
let agent: Agent;
let browser: Browser;
let page: Page;
let watch: PageWatch;

before(async () => {
  agent = await startAgent((dir) => {
    const hooks = ['alpha', 'beta', 'gamma'];
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ monitors: hooks.map((h) => ({ id: `webhook:${h}`, type: 'webhook', name: h, config: { hookId: h } })) }));
    writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify(Object.fromEntries(hooks.map((h) => [`webhook:${h}`, { secret: SECRET }]))), { mode: 0o600 });
  });
  ({ browser, page, watch } = await openBrowserPage());
});

after(async () => {
  await browser?.close();
  await agent?.stop();
});

const uiTest = uiTestOn(() => page);

async function post(hook: string, title: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(`${agent.origin}/hooks/${hook}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-panoptes-secret': SECRET }, body: JSON.stringify({ title }) });
    if (r.status === 200) return;
    // The hooks register once their monitors have started.
    if (attempt > 100) throw new Error(`hook ${hook}: HTTP ${r.status}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

uiTest('j/k walk the feed in the order shown, over the source headers when grouped, and stop at the ends', 60_000, async () => {
  for (const [hook, n] of [['alpha', 1], ['beta', 1], ['alpha', 2], ['beta', 2], ['alpha', 3]] as const) await post(hook, `${hook} ${n}`);
  await openAgentPage(page, agent);
  const rows = page.locator('.feed-row');
  await rows.nth(4).waitFor({ timeout: 15_000 });
  const order = () => rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-event-id')));
  const selected = () => page.locator('.feed-row.selected').getAttribute('data-event-id');
  const walk = async (ids: (string | null)[]) => {
    // Keys typed into a form control are the control's; the walk starts with nothing focused.
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    for (let i = 0; i < ids.length; i++) {
      await page.keyboard.press('j');
      assert.equal(await selected(), ids[i], `j #${i + 1}`);
    }
    await page.keyboard.press('j');
    assert.equal(await selected(), ids[ids.length - 1], 'j stops at the last row');
    for (let i = ids.length - 2; i >= 0; i--) {
      await page.keyboard.press('k');
      assert.equal(await selected(), ids[i], `k back to row ${i + 1}`);
    }
    await page.keyboard.press('k');
    assert.equal(await selected(), ids[0], 'k stops at the first row');
  };
  const flat = await order();
  assert.equal(flat.length, 5);
  await walk(flat);

  await page.getByLabel('By source').check();
  await page.locator('.feed-group').nth(1).waitFor();
  const grouped = await order();
  assert.notDeepEqual(grouped, flat, 'grouping reorders the rows');
  assert.deepEqual([...grouped].sort(), [...flat].sort());
  // The selection stays where it was; start the walk from a fresh page of the grouped list.
  await page.reload();
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await page.getByLabel('By source').check();
  await page.locator('.feed-group').nth(1).waitFor();
  await walk(grouped);
  assert.deepEqual(watch.problems, []);
});

uiTest('the source menu lists the sources of the loaded events, and of events pushed while the page is open', 30_000, async () => {
  const menu = page.getByLabel('Source', { exact: true });
  const options = () => menu.locator('option').allTextContents();
  // The menu names each source by its monitor's name (as History does); its value is the source id.
  assert.deepEqual(await options(), ['All sources', 'alpha', 'beta']);
  await post('gamma', 'gamma 1');
  await page.locator('.feed-row', { hasText: 'gamma 1' }).waitFor({ timeout: 15_000 });
  assert.deepEqual(await options(), ['All sources', 'alpha', 'beta', 'gamma']);
  await menu.selectOption({ value: 'webhook:gamma' });
  assert.deepEqual(await page.locator('.feed-row .feed-title').allTextContents(), ['gamma 1']);
  await menu.selectOption('');
  assert.deepEqual(watch.problems, []);
});
