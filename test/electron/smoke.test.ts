/**
 * The desktop app for real, through Playwright's _electron: tray created, window opens, an event from a local feed
 * reaches the window and the tray, and a rule's notification is shown natively. Runs only where the Electron
 * runtime is installed; elsewhere it is reported as skipped with the reason (it cannot be downloaded here).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { launchDesktopApp, until } from './desktop-app.js';

function feed(items: string[]): string {
  const entries = items
    .map((t, i) => `<item><title>${t}</title><link>http://127.0.0.1/item/${i}</link><guid>item-${i}</guid><pubDate>${new Date(Date.UTC(2030, 0, 1 + i)).toUTCString()}</pubDate></item>`)
    .join('');
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>Smoke feed</title><link>http://127.0.0.1/</link><description>d</description>${entries}</channel></rss>`;
}

test('desktop smoke: tray, window, a feed item reaching the window, the tray menu and a native notification', { timeout: 180_000 }, async (t) => {
  const desktop = await launchDesktopApp(t, 'panoptes-smoke-');
  if (!desktop) return;
  const { app, hook } = desktop;
  const items = ['Smoke item one'];
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/rss+xml' });
    res.end(feed(items));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const feedUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed.xml`;
  t.after(() => server.close());

  assert.equal(await until('tray', () => hook('trayCreated'), Boolean), true);
  const win = await app.firstWindow();
  assert.match(win.url(), /^app:\/\/panoptes\//);
  await until('engine', () => hook('engineStatus'), (s) => s === 'running');

  await hook('call', 'rules.save', { rule: { id: 'smoke', name: 'Smoke', enabled: true, when: { type: 'feed.item' }, then: [{ notify: { title: '{{ title }}' } }] } });
  const monitor = (await hook('call', 'monitors.add', { type: 'rss', name: 'Smoke feed', config: { url: feedUrl, intervalMinutes: 1 } })) as { id: string };
  // The first check only takes the baseline; a new item after it is news.
  await new Promise((r) => setTimeout(r, 1500));
  items.unshift('Smoke item two');
  await hook('call', 'monitors.checkNow', { id: monitor.id });

  await win.getByText('Smoke item two').first().waitFor({ timeout: 30_000 });
  const model = await until('tray menu', () => hook('trayModel'), (m) => !!m?.menu.some((i) => i.label === 'Smoke item two'));
  assert.ok(model);
  await until('notification', () => hook('notificationsShown'), (n) => n > 0);
});
