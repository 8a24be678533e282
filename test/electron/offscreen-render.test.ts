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
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { launchDesktopApp, until } from './desktop-app.js';

const page = `<!doctype html><html><body><button id="more">Show</button><p id="t"></p>
  <script>document.getElementById('more').onclick = () => { document.getElementById('t').textContent = 'Rendered in the desktop app'; }</script>
  </body></html>`;

test('desktop: a rendered web page loads in an offscreen Electron window, through the engine', { timeout: 240_000 }, async (t) => {
  // No Chromium of the machine: only the app's own window can render.
  const desktop = await launchDesktopApp(t, 'panoptes-offscreen-', (data) => ({ PANOPTES_CHROMIUM: path.join(data, 'no-chromium') }));
  if (!desktop) return;
  const { hook } = desktop;
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(req.url === '/page' ? page : '<p id="t">other</p>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.after(() => server.close());
  const call = (method: string, params: unknown) => hook('call', method, params);
  await until('engine', () => hook('engineStatus'), (s) => s === 'running', 60_000);

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
    60_000,
  );
  assert.equal(versions[0]!.hasScreenshot, true, 'a rendered version has its screenshot');
  const v = (await call('versions.get', { id: versions[0]!.id })) as { text: string; screenshot: string | null };
  assert.equal(v.text, 'Rendered in the desktop app', 'the page as its script built it after the step');
  assert.ok(v.screenshot, 'the screenshot is served');
});
