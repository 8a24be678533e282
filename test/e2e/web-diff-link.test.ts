/**
 * A page-change notification leads to its own diff: clicking it in the inbox opens the diff viewer on exactly the
 * two versions of that change (not on the newest ones), and the notification carries that link from the engine
 * (`open`), which the desktop shell follows too. Debian's Chromium against the real agent.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { ProtocolClient } from '../helpers/protocol-client.js';
import type { Agent, PageWatch } from './harness.js';
import { watchedPageForFile, type WatchedPage } from './watched-page.js';

let agent: Agent;
let page: Page;
let watch: PageWatch;
let protocol: ProtocolClient;
let versions: WatchedPage['versions'];
let price = '1.20';

const uiTest = watchedPageForFile(
  { id: 'web:apples', name: 'Apple price' },
  () => `<!doctype html><html><body><ul id="prices"><li>Apples € ${price}</li><li>Pears € 2.50</li></ul></body></html>`,
  (setup) => ({ agent, page, watch, protocol, versions } = setup),
);

interface Notice {
  title: string;
  open?: string | null;
}

uiTest('clicking an older page-change notification in the inbox opens the diff of exactly its two versions', 180_000, async () => {
  await versions(1);
  price = '0.99';
  await protocol.call('monitors.checkNow', { id: 'web:apples' });
  await versions(2);
  price = '0.89';
  await protocol.call('monitors.checkNow', { id: 'web:apples' });
  const [v1, v2, v3] = await versions(3);

  // The engine decides what the notification opens (the desktop shell follows the same link).
  const deadline = Date.now() + 30_000;
  let items: Notice[] = [];
  while (Date.now() < deadline && items.length < 2) {
    items = (await protocol.call<{ items: Notice[] }>('notifications.list', { limit: 10 })).items;
    if (items.length < 2) await new Promise((r) => setTimeout(r, 200));
  }
  const firstChange = items.find((n) => n.title.endsWith('0.99'));
  assert.ok(firstChange, `a notification for the first change: ${JSON.stringify(items)}`);
  assert.equal(firstChange.open, `#/history?versions=web%3Aapples&from=${v1}&to=${v2}`);

  await page.goto(agent.url);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await page.getByRole('link', { name: 'Notifications' }).click();
  // The older of the two changes (its body's "- Apples € 0.99" is in the newer one's too: pick it by its title).
  // In the inbox (the page's own toasts for them, from catching up, have such a title too).
  const title = page.getByRole('list', { name: 'Notifications' }).getByRole('button', { name: 'Apple price: +1 line, −1 — Apples € 0.99', exact: true });
  await title.waitFor({ timeout: 30_000 });
  await title.click();

  const panel = page.getByRole('region', { name: 'Versions of Apple price' });
  await panel.waitFor();
  assert.match(page.url(), new RegExp(`#/history\\?versions=web%3Aapples&from=${v1}&to=${v2}$`));
  assert.equal(await panel.getByLabel('Newer version').inputValue(), String(v2), 'the change’s own newer version, not the newest');
  assert.equal(await panel.getByLabel('Older version').inputValue(), String(v1));
  await panel.getByLabel('Before', { exact: true }).locator('del', { hasText: 'Apples € 1.20' }).waitFor();
  await panel.getByLabel('After', { exact: true }).locator('ins', { hasText: 'Apples € 0.99' }).waitFor();
  assert.notEqual(v3, v2);

  assert.deepEqual(watch.problems, []);
});

uiTest('the page’s own toast for a page change opens the diff of exactly that change, as the inbox and the desktop do', 180_000, async () => {
  await page.goto(agent.url);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  const before = await versions(1);
  price = '0.79';
  await protocol.call('monitors.checkNow', { id: 'web:apples' });
  const after = await versions(before.length + 1);
  const [from, to] = after.slice(-2);

  // The toast arrives live (the page is open); its title is what the notification opens.
  const toast = page.getByRole('region', { name: 'Notifications' }).getByRole('status').filter({ hasText: 'Apples € 0.79' });
  await toast.waitFor({ timeout: 30_000 });
  await toast.getByRole('button', { name: /Apple price: \+1 line, −1 — Apples € 0\.79/ }).click();

  const panel = page.getByRole('region', { name: 'Versions of Apple price' });
  await panel.waitFor();
  assert.match(page.url(), new RegExp(`#/history\\?versions=web%3Aapples&from=${from}&to=${to}$`));
  assert.equal(await panel.getByLabel('Newer version').inputValue(), String(to));
  assert.equal(await panel.getByLabel('Older version').inputValue(), String(from));
  await panel.getByLabel('After', { exact: true }).locator('ins', { hasText: 'Apples € 0.79' }).waitFor();
  // Opened, it is read (as a click in the inbox or on the desktop notification makes it), and the toast is gone.
  await toast.waitFor({ state: 'detached', timeout: 10_000 });
  const deadline = Date.now() + 15_000;
  let read = false;
  while (!read && Date.now() < deadline) {
    const { items } = await protocol.call<{ items: Array<Notice & { readAt?: string | null }> }>('notifications.list', { limit: 10 });
    read = Boolean(items.find((n) => n.title.endsWith('0.79'))?.readAt);
    if (!read) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(read, 'the opened notification is marked read');

  assert.deepEqual(watch.problems, []);
});

uiTest('choosing other versions puts them in the address: reload, Back and a shared link keep them', 180_000, async () => {
  let ids = await versions(1);
  for (const p of ['0.69', '0.59']) {
    if (ids.length >= 3) break;
    price = p;
    await protocol.call('monitors.checkNow', { id: 'web:apples' });
    ids = await versions(ids.length + 1);
  }
  const [v1, v2] = ids;
  const newest = ids.at(-1)!;
  const base = `${agent.url.split('#')[0]}#/history?versions=web%3Aapples`;
  const shown = async () => {
    const panel = page.getByRole('region', { name: 'Versions of Apple price' });
    await panel.waitFor();
    return { from: await panel.getByLabel('Older version').inputValue(), to: await panel.getByLabel('Newer version').inputValue() };
  };
  const addressSays = (from: number, to: number) => new RegExp(`#/history\\?versions=web%3Aapples&from=${from}&to=${to}$`);

  await page.goto(base);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  const panel = page.getByRole('region', { name: 'Versions of Apple price' });
  await panel.getByLabel('Older version').selectOption(String(v1));
  await page.waitForURL(addressSays(v1!, newest));
  await page.reload();
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await panel.getByLabel('Older version').locator(`option[value="${v1}"]`).waitFor({ state: 'attached' });
  assert.deepEqual(await shown(), { from: String(v1), to: String(newest) }, 'a reload keeps the chosen versions');

  // The newer side chosen: the older one stays if it is still older.
  await panel.getByLabel('Newer version').selectOption(String(v2));
  await page.waitForURL(addressSays(v1!, v2!));
  await panel.getByLabel('After', { exact: true }).locator('ins', { hasText: 'Apples € 0.99' }).waitFor();

  // Back returns to the pair before, and the viewer follows the address.
  await page.goBack();
  await page.waitForURL(addressSays(v1!, newest));
  await panel.getByLabel('Newer version').and(page.locator(`select:has(option[value="${newest}"]:checked)`)).waitFor();
  assert.deepEqual(await shown(), { from: String(v1), to: String(newest) });
  await page.goForward();
  await page.waitForURL(addressSays(v1!, v2!));
  await panel.getByLabel('Newer version').and(page.locator(`select:has(option[value="${v2}"]:checked)`)).waitFor();

  // The address shared: another page opens on the same two versions.
  const other = await page.context().newPage();
  try {
    await other.goto(page.url());
    const otherPanel = other.getByRole('region', { name: 'Versions of Apple price' });
    await otherPanel.getByLabel('After', { exact: true }).locator('ins', { hasText: 'Apples € 0.99' }).waitFor({ timeout: 15_000 });
    assert.equal(await otherPanel.getByLabel('Older version').inputValue(), String(v1));
    assert.equal(await otherPanel.getByLabel('Newer version').inputValue(), String(v2));
  } finally {
    await other.close();
  }

  assert.deepEqual(watch.problems, []);
});
