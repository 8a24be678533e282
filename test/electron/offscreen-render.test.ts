/**
 * The desktop app's rendered fetch for real, through Playwright's _electron: a web monitor with "Render with a
 * browser" and no browser path renders in an offscreen Electron window (the engine asks the shell; no Chromium of the
 * machine is used — PANOPTES_CHROMIUM points nowhere), sees what the page's script builds after a step, and keeps a
 * screenshot with the version. The address rule and the messages are the engine's, tested with the same messages
 * answered by Chromium (test/monitors/web-renderer-contract.test.ts). Runs only where the Electron runtime is
 * installed; elsewhere it is reported as skipped with the reason.
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

const page = `<!doctype html><html><body><button id="more">Show</button><p id="t"></p>
  <script>document.getElementById('more').onclick = () => { document.getElementById('t').textContent = 'Rendered in the desktop app'; }</script>
  </body></html>`;

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

test('desktop: a rendered web page loads in an offscreen Electron window, through the engine', { timeout: 240_000 }, async (t) => {
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
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(req.url === '/page' ? page : '<p id="t">other</p>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const data = mkdtempSync(path.join(tmpdir(), 'panoptes-offscreen-'));
  const { _electron } = await import('playwright-core');
  const app = await _electron.launch({
    executablePath: electronBin,
    args: [path.join(root, 'dist', 'electron', 'main.js'), '--data', data, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
    // No Chromium of the machine: only the app's own window can render.
    env: { ...process.env, ...(x?.env ?? {}), PANOPTES_TEST_HOOKS: '1', PANOPTES_CHROMIUM: path.join(data, 'no-chromium'), XDG_CONFIG_HOME: path.join(data, 'xdg') } as Record<string, string>,
  });
  t.after(async () => {
    await app.close().catch(() => {});
    server.close();
    await x?.stop();
    rmSync(data, { recursive: true, force: true });
  });
  const call = (method: string, params: unknown) =>
    app.evaluate((_electron, [m, p]) => (globalThis as unknown as { __panoptes: { call(m: string, p: unknown): Promise<unknown> } }).__panoptes.call(m, p), [method, params] as const);
  await until('engine', () => app.evaluate(() => (globalThis as unknown as { __panoptes: { engineStatus(): string } }).__panoptes.engineStatus()), (s) => s === 'running');

  const monitor = (await call('monitors.add', {
    type: 'web',
    name: 'Offscreen page',
    config: { url: `${base}/page`, render: true, steps: ['click:#more', 'wait:2s'], selector: '#t', timeout: '60s' },
  })) as { id: string };
  await call('monitors.checkNow', { id: monitor.id });
  const { versions } = await until(
    'a kept version',
    () => call('versions.list', { monitorId: monitor.id }) as Promise<{ versions: { id: number; hasScreenshot: boolean }[] }>,
    (v) => v.versions.length > 0,
  );
  assert.equal(versions[0]!.hasScreenshot, true, 'a rendered version has its screenshot');
  const v = (await call('versions.get', { id: versions[0]!.id })) as { text: string; screenshot: string | null };
  assert.equal(v.text, 'Rendered in the desktop app', 'the page as its script built it after the step');
  assert.ok(v.screenshot, 'the screenshot is served');
});
