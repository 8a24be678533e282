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

uiTest('the rules list tells rules apart in words, marks the defaults, and says when a narrower rule leaves a default notifying', 90_000, async () => {
  await openInBuilder({
    id: 'urgent-feed-items',
    name: 'Only feed items about outages',
    when: { type: 'feed.item', source: 'rss:status' },
    if: { any: [{ field: 'title', contains: 'outage' }, { field: 'title', matches: 'down$', flags: 'i' }] },
    context: { time: { between: ['08:00', '22:00'], days: ['mon', 'tue', 'wed', 'thu', 'fri'] } },
    throttle: { per: '10m' },
    then: [{ notify: { title: '{{ title }}', priority: 'high' } }],
  });
  await page.getByRole('button', { name: 'Save rule' }).click();
  const mine = page.getByRole('listitem', { name: 'Rule Only feed items about outages' });
  await mine.waitFor({ timeout: 15_000 });
  // Placed where the user sees it: the list comes back scrolled to the new rule, marked as just saved.
  await page.locator('.rule-card.just-saved', { hasText: 'Only feed items about outages' }).waitFor({ timeout: 5_000 });
  const box = await mine.boundingBox();
  const viewport = page.viewportSize()!;
  assert.ok(box && box.y >= 0 && box.y + box.height <= viewport.height, `the new rule is on screen (${JSON.stringify(box)} in ${viewport.height} px)`);
  const summary = (await mine.locator('.rule-summary').innerText()).trim();
  // Conditions, hours, days and pace in words: not the same line as the default rule for the same trigger.
  for (const words of ['when feed.item from rss:status', 'title contains “outage” or title matches “down$”', 'only 08:00–22:00', 'on Mon, Tue, Wed, Thu, Fri', 'at most once per 10m', 'notify (high)']) {
    assert.ok(summary.includes(words), `the summary says "${words}": ${summary}`);
  }
  const shipped = page.getByRole('listitem', { name: 'Rule Notify me of new feed items' });
  assert.equal(await shipped.locator('.badge', { hasText: 'Default' }).count(), 1, 'the shipped rule is marked Default');
  assert.equal(await mine.locator('.badge', { hasText: 'Default' }).count(), 0, 'a user\'s rule is not');
  assert.notEqual((await shipped.locator('.rule-summary').innerText()).trim(), summary);

  // The default still notifies for every feed item this rule filters out: said at the rule, with a way to pause it.
  const hint = mine.getByRole('note');
  await hint.waitFor();
  assert.match(await hint.innerText(), /The default rule “Notify me of new feed items” also notifies for every feed\.item event/);
  await hint.getByRole('button', { name: 'Pause “Notify me of new feed items”' }).click();
  const enabled = shipped.getByRole('checkbox', { name: 'Enabled: Notify me of new feed items' });
  for (let i = 0; i < 100 && (await enabled.isChecked()); i++) await page.waitForTimeout(100);
  assert.equal(await enabled.isChecked(), false, 'the default is paused');
  assert.equal(await mine.getByRole('note').count(), 0, 'no hint once the default is paused');
  assert.equal(await page.getByRole('note').count(), 0, 'and none on other rules');
});

test('nothing went wrong on the page along the way', () => {
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.dialogs, []);
});
