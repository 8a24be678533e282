/**
 * The tab title carries the notification inbox's unread count (issue #17), as mail clients do: "(2) Panoptes" while
 * two are unread, kept current while the page stays open — a notification arriving adds one, marking one read (or
 * unread again) changes it, and at zero the title is plain "Panoptes".
 */
import { after, before, test } from 'node:test';
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
    writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({
        monitors: [{ id: 'webhook:ci', type: 'webhook', name: 'CI', config: { hookId: 'ci' } }],
        rules: [{ id: 'builds', name: 'Build results', when: { type: 'webhook.received' }, then: [{ notify: { title: '{{ fields.title }}' } }] }],
      }),
    );
    writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ 'webhook:ci': { secret: SECRET } }), { mode: 0o600 });
  });
  ({ browser, page, watch } = await openBrowserPage());
  page.setDefaultTimeout(20_000);
  await openAgentPage(page, agent);
});

after(async () => {
  await browser?.close();
  await agent?.stop();
});

const uiTest = uiTestOn(() => page);

async function post(title: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const status = await fetch(`${agent.origin}/hooks/ci`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-panoptes-secret': SECRET }, body: JSON.stringify({ title }) })
      .then((r) => r.status)
      .catch(() => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`the hook answered ${status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits for the tab title to read `want` (polled from outside the page: its CSP refuses evaluated strings). */
async function titleIs(want: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let seen = await page.title();
  while (seen !== want) {
    if (Date.now() > deadline) assert.equal(seen, want, 'the tab title');
    await new Promise((r) => setTimeout(r, 100));
    seen = await page.title();
  }
}

uiTest('the tab title counts unread notifications live: arrivals add, marking read and unread changes it, none says none', 90_000, async () => {
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  assert.equal(await page.title(), 'Panoptes', 'nothing unread: no count');
  await post('Nightly build passed');
  await titleIs('(1) Panoptes');
  await post('Docs build passed');
  await titleIs('(2) Panoptes');

  await page.getByRole('link', { name: /Notifications/ }).click();
  const item = page.getByRole('list', { name: 'Notifications' }).getByRole('listitem').filter({ hasText: 'Docs build passed' });
  await item.getByRole('button', { name: 'Mark read' }).click();
  await titleIs('(1) Panoptes');
  await item.getByRole('button', { name: 'Mark unread' }).click();
  await titleIs('(2) Panoptes');
  await page.getByRole('button', { name: 'Mark all read' }).click();
  await titleIs('Panoptes');
  await post('Release build passed');
  await titleIs('(1) Panoptes');
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.dialogs, []);
});
