/// <reference lib="dom" />
// (callbacks below run in the browser through page.evaluate; the project itself compiles without the DOM types)
/**
 * Layout points of the first hour (issue #17): at 800 px the navigation shows every view without scrolling sideways;
 * a theme chosen in Settings applies at once and stays, without Save; Esc closes the monitor type picker; a paused
 * monitor says it is paused (no "Last success —") and offers Resume; the rule editor, however long, scrolls in one
 * place and leaves the navigation on screen, at 800 px and 1280 px.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { openAgentPage, openBrowserPage, startAgent, type Agent, type PageWatch, uiTestOn, watchPage } from './harness.js';

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

/**
 * The rule editor at a width: its form is long (flag gate, pattern, throttle opened), the page must still have one
 * scroll area (the view's), never a second one for the whole document that carries the navigation away, and every
 * view's link must stay on screen, not covered and not scrolled sideways out of reach.
 */
async function ruleEditorLayout(width: number): Promise<void> {
  const p = await page.context().browser()!.newContext({ viewport: { width, height: 700 } }).then((c) => c.newPage());
  const w = watchPage(p);
  try {
    await openAgentPage(p, agent);
    await p.getByRole('link', { name: 'Rules' }).click();
    await p.getByRole('button', { name: 'New rule' }).click();
    await p.getByRole('button', { name: '+ Flag gate' }).click();
    await p.getByRole('region', { name: 'Pattern' }).getByLabel('Pattern').selectOption('sequence');
    await p.getByLabel('Throttle: at most one firing per period').check();
    await p.getByRole('button', { name: 'Save rule' }).waitFor();
    // Scrolled as far as it goes, as a user reaching the Save button does.
    await p.evaluate('document.querySelector("main").scrollTop = 1e6; document.scrollingElement.scrollTop = 1e6');
    await p.getByRole('button', { name: 'Save rule' }).focus();
    const layout = (await p.evaluate(`(() => {
      const doc = document.scrollingElement;
      const scrolls = (e) => {
        const s = getComputedStyle(e);
        return (/(auto|scroll)/.test(s.overflowY) && e.scrollHeight > e.clientHeight + 1) || (/(auto|scroll)/.test(s.overflowX) && e.scrollWidth > e.clientWidth + 1);
      };
      return {
        document: { height: doc.scrollHeight - doc.clientHeight, width: doc.scrollWidth - doc.clientWidth },
        scrollAreas: [...document.querySelectorAll('body *')].filter(scrolls).map((e) => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')),
        links: [...document.querySelectorAll('nav a')].map((a) => {
          const r = a.getBoundingClientRect();
          const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
          return { name: a.title, left: r.left, right: r.right, top: r.top, bottom: r.bottom, reachable: !!hit && a.contains(hit) };
        }),
      };
    })()`)) as { document: { height: number; width: number }; scrollAreas: string[]; links: { name: string; left: number; right: number; top: number; bottom: number; reachable: boolean }[] };
    assert.deepEqual(layout.document, { height: 0, width: 0 }, `${width} px: the document itself does not scroll`);
    assert.deepEqual(layout.scrollAreas, ['main'], `${width} px: one scroll area, the view's`);
    assert.equal(layout.links.length, 9);
    for (const l of layout.links) {
      assert.ok(l.left >= 0 && l.right <= width && l.top >= 0 && l.bottom <= 700 && l.reachable, `${width} px: ${l.name} is on screen and not covered: ${JSON.stringify(l)}`);
    }
    assert.deepEqual(w.problems, []);
  } finally {
    await p.context().close();
  }
}

uiTest('the rule editor has one scroll area and the navigation stays on screen at 800 px', 60_000, () => ruleEditorLayout(800));
uiTest('the rule editor has one scroll area and the navigation stays on screen at 1280 px', 60_000, () => ruleEditorLayout(1280));

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.dialogs, []);
});
