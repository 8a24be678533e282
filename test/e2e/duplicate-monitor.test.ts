/**
 * Duplicates (issue #17): adding a monitor for a source already watched warns before it doubles events and
 * notifications. Each monitor type names what makes two monitors the same source (in its own folder); the engine's
 * `monitors.validate` returns the monitor that already watches it, and the form says "Already watched by …" with
 * "Open it" and "Add anyway".
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openAgentPage, openBrowserPage, startAgent, startFeedServer, type Agent, type FeedServer, type PageWatch, uiTestOn } from './harness.js';
import { connectProtocol, type ProtocolClient } from '../helpers/protocol-client.js';

let agent: Agent;
let browser: Browser;
let page: Page;
let watch: PageWatch;
let feed: FeedServer;
let client: ProtocolClient;

before(async () => {
  feed = await startFeedServer('Tech news');
  feed.items.push({ guid: 'a', title: 'First', link: 'http://127.0.0.1/a', description: 'first' });
  agent = await startAgent();
  client = await connectProtocol({ port: Number(new URL(agent.origin).port), token: agent.token });
  ({ browser, page, watch } = await openBrowserPage());
  await openAgentPage(page, agent);
});

after(async () => {
  client?.close();
  await browser?.close();
  await agent?.stop();
  await feed?.close();
});

const uiTest = uiTestOn(() => page);
const feeds = () => (JSON.parse(readFileSync(path.join(agent.dataDir, 'config.json'), 'utf8')) as { monitors: { name: string; type: string }[] }).monitors.filter((m) => m.type === 'rss').map((m) => m.name);

async function addFeedForm(name: string): Promise<void> {
  // Through another view: a hash change alone does not reopen the add form of a view already showing one.
  await page.goto(`${agent.origin}/#/feed`);
  // Let the Monitors view go first: two hash changes in one go can leave it mounted with the form it had open.
  await page.getByRole('form', { name: /monitor$/ }).waitFor({ state: 'detached', timeout: 10_000 });
  await page.goto(`${agent.origin}/#/monitors?add=rss`);
  await page.getByLabel('Feed address').waitFor({ timeout: 15_000 });
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill(name);
  await page.getByLabel('Feed address').fill(feed.url);
  await page.getByRole('button', { name: 'Add monitor' }).click();
}

uiTest('adding a feed already watched warns with its name; "Open it" opens it, "Add anyway" still adds', 90_000, async () => {
  await addFeedForm('Tech news');
  await page.getByRole('listitem', { name: 'Monitor Tech news' }).waitFor({ timeout: 15_000 });

  await addFeedForm('Tech news again');
  const warning = page.getByRole('alert').filter({ hasText: 'Already watched by “Tech news”' });
  await warning.waitFor({ timeout: 15_000 });
  assert.deepEqual(feeds(), ['Tech news'], 'not added while the warning stands');
  await warning.getByRole('button', { name: 'Open it' }).click();
  await page.getByRole('heading', { name: 'Edit Tech news' }).waitFor({ timeout: 10_000 });

  await addFeedForm('Tech news again');
  await warning.waitFor({ timeout: 15_000 });
  await warning.getByRole('button', { name: 'Add anyway' }).click();
  await page.getByRole('listitem', { name: 'Monitor Tech news again' }).waitFor({ timeout: 15_000 });
  assert.deepEqual(feeds().sort(), ['Tech news', 'Tech news again']);
});

test('each type names its own source: mail account and folder, IRC server and channel, page and selector, log file', async () => {
  const add = async (type: string, name: string, config: Record<string, unknown>) => (await client.call('monitors.add', { type, name, config, enabled: false })) as { id: string };
  const sameAs = async (type: string, config: Record<string, unknown>, id?: string) => {
    const r = (await client.call('monitors.validate', { type, config, ...(id ? { id } : {}) })) as { issues: unknown[]; sameAs?: { id: string; name: string } | null };
    assert.deepEqual(r.issues, [], `${type} config is valid`);
    return r.sameAs?.name ?? null;
  };
  const mail = await add('mail', 'Work mail', { host: 'imap.example.org', username: 'me@example.org', password: 'secret', folders: ['INBOX', 'Lists'] });
  assert.equal(await sameAs('mail', { host: 'IMAP.example.org', username: 'me@example.org', password: 'x', folders: ['Lists'] }), 'Work mail');
  assert.equal(await sameAs('mail', { host: 'imap.example.org', username: 'me@example.org', password: 'x', folders: ['Archive'] }), null, 'another folder');
  assert.equal(await sameAs('mail', { host: 'imap.example.org', username: 'you@example.org', password: 'x', folders: ['INBOX'] }), null, 'another account');
  assert.equal(await sameAs('mail', { host: 'imap.example.org', username: 'me@example.org', folders: ['INBOX'] }, mail.id), null, 'a monitor is not a duplicate of itself');

  await add('irc', 'Libera', { host: 'irc.example.org', nick: 'me', channels: ['#panoptes', '#node'] });
  assert.equal(await sameAs('irc', { host: 'irc.example.org', nick: 'other', channels: ['#Node'] }), 'Libera');
  assert.equal(await sameAs('irc', { host: 'irc.example.org', nick: 'me', channels: ['#rust'] }), null);

  await add('web', 'Prices', { url: 'https://shop.example.org/item', selector: '#price' });
  assert.equal(await sameAs('web', { url: 'https://shop.example.org/item', selector: '#price' }), 'Prices');
  assert.equal(await sameAs('web', { url: 'https://shop.example.org/item', selector: '#stock' }), null, 'another part of the page');

  await add('log', 'Syslog', { path: '/var/log/syslog' });
  assert.equal(await sameAs('log', { path: '/var/log/syslog', pattern: 'error' }), 'Syslog');
  assert.equal(await sameAs('log', { path: '/var/log/auth.log' }), null);
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.dialogs, []);
});
