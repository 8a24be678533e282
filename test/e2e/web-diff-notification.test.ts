/**
 * A page change while the Panoptes tab is hidden: the browser's own notification is shown (notifications allowed),
 * and clicking it opens the diff of exactly that change, as the page's toast, the inbox and the desktop do, and marks
 * it read. Debian's Chromium against the real agent; the tab's hidden state and the click on the system notification
 * are the test's (headless Chromium has no desktop to show it on): the page's real Notification is made and recorded,
 * and its click event is dispatched on it as the browser does when the user clicks it.
 */
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import type { ProtocolClient } from '../helpers/protocol-client.js';
import type { Agent, PageWatch } from './harness.js';
import { watchedPageForFile, type WatchedPage } from './watched-page.js';

let agent: Agent;
let page: Page;
let watch: PageWatch;
let protocol: ProtocolClient;
let versions: WatchedPage['versions'];
let price = '3.10';

/** Notifications allowed for the agent's page, the tab's hidden state in the test's hands, and each notification kept. */
async function recordNotificationsOfAHiddenTab(context: BrowserContext, { url }: Agent): Promise<void> {
  await context.grantPermissions(['notifications'], { origin: new URL(url).origin });
  await context.addInitScript(() => {
    const w = window as unknown as { __hidden: boolean; __notes: Notification[] };
    w.__hidden = false;
    w.__notes = [];
    // The tab as the browser reports it when another tab is in front.
    Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (w.__hidden ? 'hidden' : 'visible') });
    Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => w.__hidden });
    // The real Notification, each one recorded so the test can click it.
    const Real = window.Notification;
    class Recorded extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        w.__notes.push(this);
      }
    }
    Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
    window.Notification = Recorded as typeof Notification;
  });
}

const uiTest = watchedPageForFile(
  { id: 'web:plums', name: 'Plum price' },
  () => `<!doctype html><html><body><ul id="prices"><li>Plums € ${price}</li></ul></body></html>`,
  (setup) => ({ agent, page, watch, protocol, versions } = setup),
  { prepareContext: recordNotificationsOfAHiddenTab },
);

uiTest('clicking the browser notification of a page change (tab hidden) opens the diff of exactly that change', 180_000, async () => {
  await page.goto(agent.url);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  const first = await versions(1);
  await page.evaluate(() => ((window as unknown as { __hidden: boolean }).__hidden = true));

  price = '2.90';
  await protocol.call('monitors.checkNow', { id: 'web:plums' });
  const ids = await versions(first.length + 1);
  const [from, to] = ids.slice(-2);

  const title = 'Plum price: +1 line, −1 — Plums € 2.90';
  await page.waitForFunction((t) => (window as unknown as { __notes: Notification[] }).__notes.some((n) => n.title === t), title, { timeout: 30_000 });
  await page.evaluate((t) => {
    const w = window as unknown as { __hidden: boolean; __notes: Notification[] };
    w.__hidden = false; // the click brings the tab to the front
    w.__notes.find((n) => n.title === t)!.dispatchEvent(new Event('click'));
  }, title);

  const panel = page.getByRole('region', { name: 'Versions of Plum price' });
  await panel.waitFor({ timeout: 15_000 });
  assert.match(page.url(), new RegExp(`#/history\\?versions=web%3Aplums&from=${from}&to=${to}$`));
  assert.equal(await panel.getByLabel('Newer version').inputValue(), String(to));
  assert.equal(await panel.getByLabel('Older version').inputValue(), String(from));
  await panel.getByLabel('After', { exact: true }).locator('ins', { hasText: 'Plums € 2.90' }).waitFor();

  const deadline = Date.now() + 15_000;
  let read = false;
  while (!read && Date.now() < deadline) {
    const { items } = await protocol.call<{ items: Array<{ title: string; readAt?: string | null }> }>('notifications.list', { limit: 10 });
    read = Boolean(items.find((n) => n.title === title)?.readAt);
    if (!read) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(read, 'the opened notification is marked read');
  assert.deepEqual(watch.problems, []);
});
