/**
 * The rules of the first hour (issue #17), as a newcomer meets them in Chromium: a problem with a rule's trigger is
 * said once, at the field it is about, in words a person uses (not three times: twice under the trigger and again in
 * a banner).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { openAgentPage, openBrowserPage, startAgent, type Agent, type PageWatch, uiTestOn } from './harness.js';

let agent: Agent;
let browser: Browser;
let page: Page;
let watch: PageWatch;

before(async () => {
  agent = await startAgent();
  ({ browser, page, watch } = await openBrowserPage({ viewport: { width: 1280, height: 900 } }));
  await openAgentPage(page, agent);
});

after(async () => {
  await browser?.close();
  await agent?.stop();
});

const uiTest = uiTestOn(() => page);

/** Opens a new rule, writes `rule` in the JSON tab and goes back to the form. */
async function openInBuilder(rule: Record<string, unknown>): Promise<void> {
  await page.getByRole('link', { name: 'Rules' }).click();
  await page.getByRole('button', { name: 'New rule' }).click();
  await page.getByRole('tab', { name: 'JSON' }).click();
  await page.getByLabel('Rule JSON').fill(JSON.stringify(rule, null, 2));
  await page.getByRole('tab', { name: 'Form' }).click();
}

uiTest('a trigger type the engine refuses is said once, at the trigger, in plain words', 60_000, async () => {
  for (const type of ['', 42]) {
    await openInBuilder({ id: 'odd-trigger', name: 'Odd trigger', when: { type }, then: [{ notify: { title: '{{ title }}' } }] });
    await page.getByText('1 problem to fix').waitFor({ timeout: 10_000 });
    const trigger = page.getByRole('region', { name: 'Trigger' });
    const atField = trigger.locator('[data-path="$.when.type"]');
    assert.equal(await atField.count(), 1, `type ${JSON.stringify(type)}: one message at the trigger, not ${await atField.count()}`);
    const message = (await atField.innerText()).trim();
    assert.doesNotMatch(message, /Too small|Too big|expected string|received/, `in plain words: ${message}`);
    // Said nowhere else: no banner repeating what the field says.
    const everywhere = await page.locator('main').innerText();
    assert.equal(everywhere.split(message).length - 1, 1, `"${message}" appears once on the page`);
    assert.equal(await page.getByRole('alert', { name: 'Problems' }).count(), 0, 'no banner for a problem shown at its field');
    await page.getByRole('button', { name: 'Cancel' }).click();
  }
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.dialogs, []);
});
