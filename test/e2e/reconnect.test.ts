/**
 * A page left open while the agent restarts: it says it is reconnecting and comes back by itself with the key it
 * stored; the "key not accepted" screen is for a key the server really refuses (401), never for an agent that is
 * merely down or starting.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, uiTest as harnessUiTest } from './harness.js';
import { startAgent, type RunningAgent } from '../helpers/agent-process.js';
import { freePort } from '../helpers/ports.js';

let browser: Browser;
let page: Page;
let agent: RunningAgent | null = null;
let dataDir: string;
let port: number;

before(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-e2e-reconnect-'));
  port = await freePort();
  agent = await startAgent(dataDir, ['--port', String(port)]);
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1100, height: 700 } })).newPage();
});

after(async () => {
  await browser?.close();
  await agent?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const uiTest = (name: string, timeout: number, fn: () => Promise<void>) => harnessUiTest(() => page, name, { timeout }, fn);
const REJECTED = 'Panoptes did not accept this page’s key';

uiTest('a page open across agent restarts reconnects by itself and never shows the key-rejected screen', 240_000, async () => {
  await page.goto(agent!.openUrl);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  let sawRejected = false;
  const watcher = setInterval(() => {
    void page
      .getByText(REJECTED)
      .count()
      .then((n) => (sawRejected ||= n > 0))
      .catch(() => {});
  }, 50);
  try {
    // Restarts with different downtimes: the page's reconnect attempts land before, during and after start-up.
    for (const [how, downMs] of [['SIGTERM', 0], ['SIGKILL', 0], ['SIGTERM', 700], ['SIGKILL', 2_500]] as const) {
      // SIGTERM is Ctrl+C (the agent closes the page's connection and its server, then the engine); SIGKILL a crash.
      const exited = new Promise((r) => agent!.child.once('exit', r));
      agent!.child.kill(how);
      await exited;
      await page.getByText(/reconnecting/i).waitFor({ timeout: 10_000 });
      await new Promise((r) => setTimeout(r, downMs));
      agent = await startAgent(dataDir, ['--port', String(port)]);
      await page.locator('.conn-open').waitFor({ timeout: 30_000 });
      assert.equal(sawRejected, false, `the key-rejected screen showed after a ${how} restart with ${downMs} ms downtime`);
    }
    // The address answers plain HTTP but refuses the page's WebSocket with 503, as a server does while it is still
    // starting or already closing: that is not a refused key either.
    agent!.child.kill('SIGKILL');
    await new Promise((r) => agent!.child.once('exit', r));
    const busy = http.createServer((_req, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<p>starting</p>'));
    busy.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'));
    await new Promise<void>((r) => busy.listen(port, '127.0.0.1', () => r()));
    await new Promise((r) => setTimeout(r, 3_000)); // several attempts meet the busy server
    busy.closeAllConnections();
    await new Promise((r) => busy.close(r));
    assert.equal(sawRejected, false, 'the key-rejected screen showed while the server was up but not taking connections');
    agent = await startAgent(dataDir, ['--port', String(port)]);
    await page.locator('.conn-open').waitFor({ timeout: 30_000 });
    assert.equal(sawRejected, false);
  } finally {
    clearInterval(watcher);
  }
});

uiTest('a wrong key still gets the key-rejected screen', 60_000, async () => {
  const other = await (await browser.newContext()).newPage();
  await other.goto(`${agent!.origin}/#token=not-the-key-${'x'.repeat(20)}`);
  await other.getByText(REJECTED).waitFor({ timeout: 15_000 });
  await other.close();
});
