/**
 * The desktop app for real, through Playwright's _electron: tray created, window opens, an event from a local feed
 * reaches the window and the tray, and a rule's notification is shown natively. Runs only where the Electron
 * runtime is installed; elsewhere it is reported as skipped with the reason (it cannot be downloaded here).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { findElectronBinary, missingRuntimeReason } from '../../electron/runtime.js';
import { startXvfb, have, type XServer } from '../desktop/xvfb.js';

const root = process.env.PANOPTES_ROOT ?? process.cwd();
const electronBin = findElectronBinary(root);

function feed(items: string[]): string {
  const entries = items
    .map((t, i) => `<item><title>${t}</title><link>http://127.0.0.1/item/${i}</link><guid>item-${i}</guid><pubDate>${new Date(Date.UTC(2030, 0, 1 + i)).toUTCString()}</pubDate></item>`)
    .join('');
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>Smoke feed</title><link>http://127.0.0.1/</link><description>d</description>${entries}</channel></rss>`;
}

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('desktop smoke: tray, window, a feed item reaching the window, the tray menu and a native notification', { timeout: 180_000 }, async (t) => {
  if (!electronBin) {
    t.skip(`skipped: ${missingRuntimeReason(root)}`);
    return;
  }
  let x: XServer | null = null;
  if (process.platform === 'linux' && !process.env.DISPLAY) {
    if (!have('Xvfb')) {
      t.skip('skipped: no display and no Xvfb to start one');
      return;
    }
    x = await startXvfb({ windowManager: have('openbox') });
  }
  const items = ['Smoke item one'];
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/rss+xml' });
    res.end(feed(items));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const feedUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed.xml`;
  const data = mkdtempSync(path.join(tmpdir(), 'panoptes-smoke-'));
  const { _electron } = await import('playwright-core');
  const app = await _electron.launch({
    executablePath: electronBin,
    args: [path.join(root, 'dist', 'electron', 'main.js'), '--data', data, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
    env: { ...process.env, ...(x?.env ?? {}), PANOPTES_TEST_HOOKS: '1', XDG_CONFIG_HOME: path.join(data, 'xdg') } as Record<string, string>,
  });
  t.after(async () => {
    await app.close().catch(() => {});
    server.close();
    await x?.stop();
    rmSync(data, { recursive: true, force: true });
  });

  // Playwright serializes these functions into the main process; they reach the app through its test hooks.
  type Hooks = { trayCreated(): boolean; engineStatus(): string; trayModel(): { menu: { label?: string }[] } | null; notificationsShown(): number; call(m: string, p: unknown): Promise<unknown> };
  const hook = <K extends keyof Hooks>(name: K, ...args: unknown[]) =>
    app.evaluate((_electron, [n, a]) => {
      const h = (globalThis as unknown as { __panoptes: Record<string, (...x: unknown[]) => unknown> }).__panoptes;
      return h[n as string]!(...(a as unknown[]));
    }, [name, args] as const) as Promise<Awaited<ReturnType<Hooks[K]>>>;

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
