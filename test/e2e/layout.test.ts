/**
 * Layout points of the first hour (issue #17): at 800 px the navigation shows every view without scrolling sideways;
 * a theme chosen in Settings applies at once and stays, without Save; Esc closes the monitor type picker; a paused
 * monitor says it is paused (no "Last success —") and offers Resume.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { openAgentPage, openBrowserPage, startAgent, type Agent, type PageWatch, uiTestOn } from './harness.js';

let agent: Agent;
let browser: Browser;
let page: Page;
let watch: PageWatch;

before(async () => {
  agent = await startAgent();
  ({ browser, page, watch } = await openBrowserPage({ viewport: { width: 800, height: 700 } }));
  await openAgentPage(page, agent);
});

after(async () => {
  await browser?.close();
  await agent?.stop();
});

const uiTest = uiTestOn(() => page);

uiTest('at 800 px every view is in the navigation without scrolling sideways', 60_000, async () => {
  const nav = page.getByRole('navigation', { name: 'Main' });
  const overflow = await nav.evaluate((n) => n.scrollWidth - n.clientWidth);
  assert.ok(overflow <= 1, `the navigation does not scroll sideways (${overflow} px hidden)`);
  for (const name of ['Dashboard', 'Settings']) {
    const box = await nav.getByRole('link', { name }).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 800, `${name} is on screen: ${JSON.stringify(box)}`);
  }
});

uiTest('a theme chosen in Settings applies at once and stays, without Save', 60_000, async () => {
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Theme').selectOption('dark');
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark', undefined, { timeout: 5_000 }).catch(() => {});
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme ?? null), 'dark', 'applied without Save');
  await page.reload();
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await page.getByRole('link', { name: 'Settings' }).click();
  assert.equal(await page.getByLabel('Theme').inputValue(), 'dark', 'kept by the engine');
  await page.getByLabel('Theme').selectOption('system');
});

uiTest('Esc closes the monitor type picker', 60_000, async () => {
  await page.getByRole('link', { name: 'Monitors' }).click();
  await page.getByRole('button', { name: 'Add monitor' }).click();
  const picker = page.getByRole('region', { name: 'Choose a monitor type' });
  await picker.waitFor();
  await page.keyboard.press('Escape');
  await picker.waitFor({ state: 'detached', timeout: 5_000 });
});

uiTest('a paused monitor says so and offers Resume', 60_000, async () => {
  await page.goto(`${agent.origin}/#/feed`);
  await page.goto(`${agent.origin}/#/monitors?add=rss`);
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Never reached');
  await page.getByLabel('Feed address').fill('http://127.0.0.1:9/feed.xml');
  await page.getByRole('button', { name: 'Add monitor' }).click();
  const card = page.getByRole('listitem', { name: 'Monitor Never reached' });
  await card.getByRole('button', { name: 'Pause' }).click();
  await card.getByRole('button', { name: 'Resume' }).waitFor({ timeout: 10_000 });
  const text = await card.innerText();
  assert.doesNotMatch(text, /Last success\s*—/, 'no empty "last success" for a paused monitor');
  assert.match(text, /Paused/);
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.dialogs, []);
});
