/**
 * Edit clicked on a monitor before the page knows the monitor types (their list answers after the monitors' own, as
 * it did under load in a CI run) must still open the form once they arrive — a click that silently does nothing
 * leaves the user clicking again. The types' answer is held back at the WebSocket to make the order certain.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { waitFor } from '../helpers/tmp.js';
import { openBrowserPage, startAgent, type Agent, type PageWatch, uiTestOn } from './harness.js';

let agent: Agent;
let browser: Browser;
let page: Page;
let watch: PageWatch;

before(async () => {
  agent = await startAgent((dir) => {
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ monitors: [{ id: 'webhook:door', type: 'webhook', name: 'Front door', config: { hookId: 'door' } }] }));
    writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ 'webhook:door': { secret: 'a-long-enough-hook-secret' } }), { mode: 0o600 });
  });
  ({ browser, page, watch } = await openBrowserPage());
});

after(async () => {
  await browser?.close();
  await agent?.stop();
});

const uiTest = uiTestOn(() => page);

uiTest('Edit clicked before the monitor types have loaded opens the form once they arrive', 60_000, async () => {
  let holding = true;
  const typesIds = new Set<number>();
  const held: string[] = [];
  let release = () => {};
  await page.routeWebSocket(/./, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => {
      const text = String(m);
      try {
        const msg = JSON.parse(text) as { kind?: string; id?: number; method?: string };
        if (msg.kind === 'req' && msg.method === 'monitors.types' && typeof msg.id === 'number') typesIds.add(msg.id);
      } catch {
        // not ours to read
      }
      server.send(m);
    });
    server.onMessage((m) => {
      const text = String(m);
      let id: unknown;
      try {
        id = (JSON.parse(text) as { kind?: string; id?: unknown }).id;
      } catch {
        id = undefined;
      }
      if (holding && typeof id === 'number' && typesIds.has(id)) held.push(text);
      else ws.send(m);
    });
    release = () => {
      holding = false;
      for (const text of held.splice(0)) ws.send(text);
    };
  });
  await page.goto(agent.url);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await page.getByRole('link', { name: 'Monitors' }).click();
  const card = page.getByRole('listitem', { name: 'Monitor Front door' });
  await card.waitFor({ timeout: 15_000 });
  await waitFor(() => held.length > 0 || null, 'the types answer held back', 15_000);
  await card.getByRole('button', { name: 'Edit' }).click();
  release();
  await page.getByRole('heading', { name: 'Edit Front door' }).waitFor({ timeout: 15_000 });
  assert.deepEqual(watch.problems, []);
});
