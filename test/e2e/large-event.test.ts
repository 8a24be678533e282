/**
 * Lists send a large event cut short (its long texts end in a marker, `cut` set); the event's detail, in the feed and
 * in History, fetches and shows all of it: the end of a 150,000-character body and of a 900 KB field.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openAgentPage, openBrowserPage, startAgent, type Agent, uiTestOn } from './harness.js';
import { openStore } from '../../core/store/index.js';
import { connectTo } from '../helpers/ws-client.js';

let agent: Agent;
let browser: Browser;
let page: Page;

before(async () => {
  agent = await startAgent((dir) => {
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ monitors: [], rules: [] }));
    const store = openStore(dir);
    try {
      const at = new Date().toISOString();
      store.tx(() =>
        store.events.append([
          {
            id: 'bigevent000001',
            ts: at,
            receivedAt: at,
            source: 'webhook:ci',
            type: 'webhook.received',
            title: 'Build log of a huge job',
            body: 'Start of the log. ' + 'line of output. '.repeat(10_000) + 'THE END OF THE BODY',
            url: null,
            fields: { blob: 'x'.repeat(900_000) + 'FIELD END', host: 'ci' },
            tags: [],
          },
        ]),
      );
      store.cursors.set('rules', store.events.maxSeq(), null);
    } finally {
      store.close();
    }
  });
  ({ browser, page } = await openBrowserPage({ viewport: { width: 1280, height: 900 } }));
  await openAgentPage(page, agent);
});

after(async () => {
  await browser?.close();
  await agent?.stop();
});

const uiTest = uiTestOn(() => page);

async function detailShowsAll(): Promise<void> {
  const detail = page.getByRole('article', { name: 'Event details' });
  await detail.getByText(/THE END OF THE BODY/).waitFor({ timeout: 30_000 });
  await detail.getByText(/FIELD END/).waitFor({ timeout: 30_000 });
  assert.equal(await detail.getByText(/\[cut: /).count(), 0, 'nothing in the detail is cut');
  assert.equal(await detail.getByRole('status').count(), 0, 'no "loading all of it" note once it is shown');
}

uiTest('the feed lists a huge event cut short and its detail shows all of it', 90_000, async () => {
  const row = page.getByRole('listitem', { name: /Build log of a huge job/ });
  await row.waitFor({ timeout: 30_000 });
  // The list sent it cut, so what the detail shows next was fetched whole.
  const other = await connectTo(agent);
  try {
    const listed = await other.call<{ events: { id: string; cut?: true; body: string }[] }>('events.list', { limit: 10 });
    assert.equal(listed.events[0]!.cut, true);
    assert.doesNotMatch(listed.events[0]!.body, /THE END OF THE BODY/);
  } finally {
    other.close();
  }
  await row.click();
  await detailShowsAll();
});

uiTest('History finds it and its detail shows all of it', 90_000, async () => {
  await page.getByRole('link', { name: 'History' }).click();
  const table = page.getByRole('table', { name: 'Search results' });
  await table.getByText('Build log of a huge job').click();
  await detailShowsAll();
});
