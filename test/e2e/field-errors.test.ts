/**
 * Errors at the field, all at once, in words a person uses: a monitor form shows every problem of the form on the
 * first try (not in waves as each is fixed), a broken CSS selector at its field; Settings puts the engine's refusals
 * at their fields (no raw zod text, no browser bubbles), and a flags list with a bad name is refused, not split.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { agentPageForFile, type Agent } from './harness.js';

let agent: Agent;
let page: Page;
const uiTest = agentPageForFile((opened) => ({ agent, page } = opened));
/** The error shown at the field labelled `label` (the field's own `.error`). */
const errorAt = (label: string) => page.getByLabel(label).first().locator('xpath=ancestor::div[contains(concat(" ", @class, " "), " field ")][1]/div[contains(concat(" ", @class, " "), " error ")]');

uiTest('a monitor form shows every problem at its field on the first save, the CSS selector too', 60_000, async () => {
  await page.goto(`${agent.origin}/#/monitors?add=web`);
  await page.getByLabel('Page address').waitFor();
  // Empty name and a bad address (caught in the page), a broken selector and pattern (caught by the engine's schema).
  await page.getByLabel('Page address').fill('not an address');
  await page.getByLabel('CSS selector').fill('div[');
  await page.getByLabel('Ignore patterns').fill('Updated (\\d+');
  await page.getByRole('button', { name: 'Add monitor' }).click();
  await errorAt('Name').waitFor({ timeout: 10_000 });
  await errorAt('CSS selector').waitFor({ timeout: 10_000 });
  assert.match(await errorAt('Page address').innerText(), /address/i);
  assert.match(await errorAt('CSS selector').innerText(), /not a valid CSS selector/);
  assert.match(await errorAt('Ignore patterns').innerText(), /missing \)|unterminated|missing closing/i);
  assert.equal(await page.locator('form .error-box').count(), 0, 'nothing left for a banner at the bottom');
});

uiTest('Settings puts refusals at their fields in plain words, and a flags list with a bad name is not split', 60_000, async () => {
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Hold notifications while these flags are set').fill('dnd, Bad Flag!');
  await page.getByLabel('Traces kept per rule').fill('20000');
  await page.getByLabel('Keep events for (days)').fill('0');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await errorAt('Traces kept per rule').waitFor({ timeout: 10_000 });
  assert.match(await errorAt('Traces kept per rule').innerText(), /at most 10,000/);
  assert.match(await errorAt('Keep events for (days)').innerText(), /at least 1 day/);
  assert.match(await errorAt('Hold notifications while these flags are set').innerText(), /“Bad Flag!” is not a flag name/);
  const text = await page.locator('main').innerText();
  assert.doesNotMatch(text, /traceLimitPerRule|Too big|expected number/);
  const saved = JSON.parse(readFileSync(path.join(agent.dataDir, 'config.json'), 'utf8')).settings;
  assert.deepEqual(saved.notifications.holdDuringFlags, ['dnd'], 'nothing was saved');
  assert.equal(saved.traceLimitPerRule, 50);
});

uiTest('"Check every" below the minimum its help states is refused at that field', 60_000, async () => {
  await page.goto(`${agent.origin}/#/feed`);
  await page.goto(`${agent.origin}/#/monitors?add=log`);
  await page.getByLabel('Log file').waitFor();
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('App log');
  await page.getByLabel('Log file').fill('/var/log/app.log');
  await page.getByLabel('Check every').fill('1ms');
  await page.getByRole('button', { name: 'Add monitor' }).click();
  await errorAt('Check every').waitFor({ timeout: 10_000 });
  assert.match(await errorAt('Check every').innerText(), /at least 250ms/);
  const monitors = JSON.parse(readFileSync(path.join(agent.dataDir, 'config.json'), 'utf8')).monitors as { name: string }[];
  assert.ok(!monitors.some((m) => m.name === 'App log'), 'not added');
});

uiTest('Settings → Machines: a port out of range is told at its field in words, not by a browser bubble', 60_000, async () => {
  await page.goto(`${agent.origin}/#/feed`);
  await page.goto(`${agent.origin}/#/settings`);
  const machines = page.getByRole('form', { name: 'Machines', exact: true });
  await machines.getByText('Run a broker in this Panoptes').click();
  await machines.locator('#emb-port').fill('70000');
  await machines.getByRole('button', { name: 'Save machines settings' }).click();
  const error = machines.locator('[data-path="$.embeddedBroker.port"]');
  await error.waitFor({ timeout: 10_000 });
  assert.match(await error.innerText(), /from 1 to 65535/);
  assert.doesNotMatch(await machines.innerText(), /Too big|expected number/);
  const doc = JSON.parse(readFileSync(path.join(agent.dataDir, 'config.json'), 'utf8'));
  assert.notEqual(doc.forwarding?.embeddedBroker?.port, 70000, 'nothing was saved');
});
