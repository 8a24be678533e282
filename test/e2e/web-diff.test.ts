/**
 * A watched page's versions in Debian's Chromium against the real agent: the page changes, the default rule
 * notifies, the notification opens its event, the event's "See what changed" opens History at that version, and
 * the diff shows added and removed text coloured, side by side or inline, by lines or words. Text of the page
 * that looks like HTML stays text.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { ProtocolClient } from '../helpers/protocol-client.js';
import { screenshot, type Agent, type PageWatch } from './harness.js';
import { watchedPageForFile, type WatchedPage } from './watched-page.js';

let agent: Agent;
let page: Page;
let watch: PageWatch;
let protocol: ProtocolClient;
let versionsKept: WatchedPage['versions'];
let items = ['Apples € 1.20', 'Pears € 2.50', 'Plums € 3.10', 'Note: &lt;img src=x onerror=alert(1)&gt; is text'];

const shopPage = () =>
  `<!doctype html><html><body><h1>Greengrocer</h1><ul id="prices">${items.map((i) => `<li>${i}</li>`).join('')}</ul><p>Visitors today: ${Math.floor(Math.random() * 1000)}</p></body></html>`;

const uiTest = watchedPageForFile({ id: 'web:greengrocer', name: 'Greengrocer prices' }, shopPage, (setup) => ({ agent, page, watch, protocol, versions: versionsKept } = setup));

uiTest('a page change: notification → event → "See what changed" → the diff of its versions, coloured and inert', 180_000, async () => {
  await versionsKept(1); // the first check is the baseline
  items = ['Apples € 0.99', 'Pears € 2.50', 'Plums € 3.10', 'Cherries € 6.00', 'Note: &lt;img src=x onerror=alert(1)&gt; is text'];
  await protocol.call('monitors.checkNow', { id: 'web:greengrocer' });
  await versionsKept(2);

  await page.goto(agent.url);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await page.getByRole('link', { name: 'Notifications' }).click();
  const item = page.locator('.inbox-item', { hasText: 'Greengrocer prices: +2 lines, −1' }).first();
  await item.waitFor({ timeout: 30_000 });
  await item.getByRole('button', { name: 'Open event' }).click();
  await page.getByRole('link', { name: 'See what changed' }).click();

  const panel = page.getByRole('region', { name: 'Versions of Greengrocer prices' });
  await panel.waitFor();
  assert.match(page.url(), /#\/history\?versions=web%3Agreengrocer&from=\d+&to=\d+/);
  await panel.getByText('+2 lines, −1').waitFor();
  const before = panel.getByLabel('Before', { exact: true });
  const afterPane = panel.getByLabel('After', { exact: true });
  assert.deepEqual(await before.locator('del').allInnerTexts(), ['Apples € 1.20\n']);
  assert.deepEqual(await afterPane.locator('ins').allInnerTexts(), ['Apples € 0.99\n', 'Cherries € 6.00\n']);
  assert.equal(await before.locator('ins').count(), 0, 'the older side shows no added text');
  // What looks like HTML in the page's text is shown as text: no element made of it, nothing run.
  await afterPane.getByText('Note: <img src=x onerror=alert(1)> is text').waitFor();
  assert.equal(await panel.locator('img').count(), 0);
  await screenshot(page, 'web-diff');

  await panel.getByRole('radio', { name: 'Words' }).click();
  await panel.getByRole('radio', { name: 'Inline' }).click();
  const inline = panel.getByLabel('Changes', { exact: true });
  await inline.locator('ins', { hasText: '0.99' }).first().waitFor();
  // A word is what lies between spaces: the price changed as a whole, not digit by digit.
  assert.ok((await inline.locator('del').allInnerTexts()).includes('1.20'), 'the old price is marked removed, whole');
  assert.ok((await inline.locator('ins').allInnerTexts()).includes('0.99'), 'the new price is marked added, whole');
  assert.ok(!(await inline.locator('ins').allInnerTexts()).some((t) => t.includes('Pears')), 'unchanged words are not marked');

  // Any two versions: with one older version there is one choice; the first version alone says so.
  const older = panel.getByLabel('Older version');
  assert.equal(await older.locator('option').count(), 1);
  const newer = panel.getByLabel('Newer version');
  const firstId = await newer.locator('option').nth(1).getAttribute('value');
  await newer.selectOption(firstId!);
  await panel.getByText('The first version kept: nothing older to compare with.').waitFor();

  await panel.getByRole('button', { name: 'Close versions' }).click();
  await panel.waitFor({ state: 'detached' });
  assert.equal(new URL(page.url()).hash, '#/history');

  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.dialogs, []);
  assert.deepEqual(watch.externalRequests, []);
});
