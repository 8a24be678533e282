/**
 * A tab left open on the headless agent keeps working across a restart: the agent comes back on the address it
 * had (the port is remembered in the data folder), and Ctrl+C with the tab open stops it promptly.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import http from 'node:http';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startAgent, type RunningAgent } from '../helpers/agent-process.js';
import { launchChromium, uiTest as harnessUiTest } from './harness.js';

let browser: Browser;
let page: Page;
let dir: string;
const running: RunningAgent[] = [];

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-e2e-port-'));
  browser = await launchChromium();
  page = await (await browser.newContext()).newPage();
});

after(async () => {
  await browser?.close();
  for (const a of running) await a.stop();
  rmSync(dir, { recursive: true, force: true });
});

const uiTest = (name: string, timeout: number, fn: () => Promise<void>) => harnessUiTest(() => page, name, { timeout }, fn);

/** Sends Ctrl+C's signal and resolves with how long the agent took to exit, and its exit code. */
function interrupt(agent: RunningAgent): Promise<{ ms: number; code: number | null }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    agent.child.once('exit', (code) => resolve({ ms: Date.now() - t0, code }));
    agent.child.kill('SIGINT');
  });
}

uiTest('the agent comes back on the same address, the open tab reconnects by itself, and Ctrl+C stops it promptly', 120_000, async () => {
  const first = await startAgent(dir, [], 'agent', 90_000, []);
  running.push(first);
  const portFile = path.join(dir, 'agent-port');
  assert.ok(existsSync(portFile), 'the port is remembered in the data folder');
  assert.equal((statSync(portFile).mode & 0o777).toString(8), '600');
  assert.equal(Number(readFileSync(portFile, 'utf8')), first.port);

  await page.goto(first.openUrl);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  // Also a request in flight on a kept-alive connection, as a browser has.
  const lingering = http.get({ host: '127.0.0.1', port: first.port, path: '/', headers: { Host: `127.0.0.1:${first.port}`, Connection: 'keep-alive' }, agent: new http.Agent({ keepAlive: true }) });
  lingering.on('error', () => {});
  const stopped = await interrupt(first);
  assert.equal(stopped.code, 0, first.output());
  // A person pressing Ctrl+C waits for this; seconds are a hang (the report said about 8 s).
  assert.ok(stopped.ms < 3000, `Ctrl+C took ${stopped.ms} ms with a tab open`);
  await page.locator('.conn-open').waitFor({ state: 'detached', timeout: 15_000 });

  const second = await startAgent(dir, [], 'agent', 90_000, []);
  running.push(second);
  assert.equal(second.port, first.port, 'the same address as before');
  assert.equal(second.token, first.token, 'the same token, so the open tab is still authorised');
  await page.locator('.conn-open').waitFor({ timeout: 30_000 });
  const again = await interrupt(second);
  assert.ok(again.ms < 3000, `Ctrl+C took ${again.ms} ms`);
});

uiTest('when the remembered port is taken, the agent says so and takes another', 60_000, async () => {
  const port = Number(readFileSync(path.join(dir, 'agent-port'), 'utf8'));
  const squatter = http.createServer();
  await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', r));
  try {
    const agent = await startAgent(dir, [], 'agent', 90_000, []);
    running.push(agent);
    assert.notEqual(agent.port, port);
    assert.match(agent.output(), new RegExp(`port ${port} is in use`));
    await agent.stop();
  } finally {
    squatter.close();
  }
});
