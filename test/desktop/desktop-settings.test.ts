/**
 * The Settings view's Desktop section in Debian's Chromium, against a real agent. The Electron preload cannot run
 * here, so an init script plays its part: `window.panoptesDesktop.preferences` recording what the page asks
 * (and refusing one change the way main would), and the engine's MessagePort bridged to the agent's WebSocket.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchChromium, screenshot, startAgent, watchPage, type Agent } from '../e2e/harness.js';

const skip = !existsSync(CHROMIUM) && `skipped: ${CHROMIUM} is not installed`;
let agent: Agent;
let browser: Browser;

before(async () => {
  if (skip) return;
  agent = await startAgent();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await agent?.stop();
});

// standInPreload runs in Chromium, not in Node: this project's Node tsconfig has no DOM types, so the browser
// globals it touches are declared loosely here.
declare const window: any;
declare const location: any;

/** Runs in the page before its scripts, as the preload does. */
function standInPreload(token: string) {
  const w = window as unknown as Record<string, unknown>;
  let prefs: Record<string, boolean> = {
    startOnLogin: true,
    startHidden: false,
    notificationSound: true,
    notificationClickOpensUrl: false,
    closeToTray: true,
    trayLeftClickToggles: true,
  };
  const calls: unknown[] = [];
  w.__preferenceCalls = calls;
  w.panoptesDesktop = {
    platform: 'linux',
    preferences: {
      get: async () => ({ ...prefs }),
      set: async (patch: Record<string, boolean>) => {
        calls.push(patch);
        // What Electron makes of an error thrown by main's handler.
        if ('closeToTray' in patch) throw new Error(`Error invoking remote method 'panoptes-preferences-set': Error: preferences: "closeToTray" is locked by your administrator`);
        prefs = { ...prefs, ...patch };
        return { ...prefs };
      },
    },
  };
  window.addEventListener('message', (ev: { source: unknown; data: unknown }) => {
    if (ev.source !== window || (ev.data as { type?: string } | null)?.type !== 'panoptes-port-request') return;
    const { port1, port2 } = new MessageChannel();
    const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws', ['panoptes.v1', 'token.' + token]);
    ws.onmessage = (m) => port2.postMessage(JSON.parse(String(m.data)));
    (port2 as any).onmessage = (m: { data: unknown }) => ws.send(JSON.stringify(m.data));
    ws.onopen = () => window.postMessage({ type: 'panoptes-port' }, '*', [port1]);
  });
}

test('desktop app: the Desktop section reads the preferences and changes one at a time; a refusal is shown plainly', { skip, timeout: 90_000 }, async () => {
  const page = await browser.newPage();
  const watch = watchPage(page);
  await page.addInitScript(standInPreload, agent.token);
  await page.goto(agent.origin + '/');
  await page.getByRole('link', { name: 'Settings' }).click();
  const section = page.getByRole('region', { name: 'Desktop' });
  await section.waitFor({ timeout: 20_000 });
  const box = (label: string) => section.getByRole('checkbox', { name: label });
  assert.equal(await box('Start Panoptes when I log in').isChecked(), true);
  assert.equal(await box('Start hidden in the tray').isChecked(), false);

  await box('Start hidden in the tray').click();
  await page.waitForFunction(() => (window as unknown as { __preferenceCalls: unknown[] }).__preferenceCalls.length === 1);
  assert.equal(await box('Start hidden in the tray').isChecked(), true);
  await box('Start Panoptes when I log in').click();
  await page.waitForFunction(() => (window as unknown as { __preferenceCalls: unknown[] }).__preferenceCalls.length === 2);
  assert.deepEqual(await page.evaluate(() => (window as unknown as { __preferenceCalls: unknown[] }).__preferenceCalls), [{ startHidden: true }, { startOnLogin: false }]);

  await box('Closing the window keeps Panoptes running in the tray').click();
  const alert = section.getByRole('alert');
  await alert.waitFor();
  assert.equal(await alert.textContent(), 'preferences: "closeToTray" is locked by your administrator');
  assert.equal(await box('Closing the window keeps Panoptes running in the tray').isChecked(), true, 'a refused change does not look applied');
  await screenshot(page, 'settings-desktop');
  assert.deepEqual(watch.problems, []);
  await page.close();
});

test('browser (agent UI): no Desktop section', { skip, timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(agent.url);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('form', { name: 'Settings' }).waitFor({ timeout: 20_000 });
  assert.equal(await page.getByRole('region', { name: 'Desktop' }).count(), 0);
  await page.close();
});
