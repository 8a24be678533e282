/**
 * A template inside a shell's -c script turns an event's text into shell code. The rule builder says so at that
 * argument, in the warning colour, with the argv form that is safe ("$1" in the script, the value as its own
 * argument), and the warning goes once the command takes that form. Saving still works: it is a warning.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { agentPageForFile, type Agent } from './harness.js';

let agent: Agent;
let page: Page;
const uiTest = agentPageForFile((opened) => ({ agent, page } = opened));

uiTest('the rule builder warns at a shell -c script with a template in it and offers the argv form', 90_000, async () => {
  await page.goto(`${agent.origin}/#/rules`);
  await page.getByRole('button', { name: /New rule/ }).first().click();
  await page.getByLabel('Name', { exact: true }).fill('Shell echo');
  await page.getByLabel('Action to add').selectOption({ label: 'Run a command' });
  await page.getByRole('button', { name: 'Add action' }).click();
  const command = page.getByRole('group', { name: 'Command' }).last();
  await command.getByLabel('Program', { exact: true }).fill('/bin/sh');
  await command.getByLabel('Argument 1', { exact: true }).fill('-c');
  await command.getByRole('button', { name: '+ Argument' }).click();
  await command.getByLabel('Argument 2', { exact: true }).fill('echo "{{ title }}"');

  const warning = command.locator('.field-warning');
  await warning.waitFor({ timeout: 15_000 });
  const text = await warning.innerText();
  assert.match(text, /shell/);
  assert.match(text, /"\$1"/, 'the argv form is offered');
  assert.match((await warning.getAttribute('data-path'))!, /^\$\.then\[\d+\]\.command\.argv$/, 'said at the command’s arguments');

  // The safe form: the script reads "$1", the template is an argument of its own. The warning goes.
  await command.getByLabel('Argument 2', { exact: true }).fill('echo "$1"');
  await command.getByRole('button', { name: '+ Argument' }).click();
  await command.getByLabel('Argument 3', { exact: true }).fill('sh');
  await command.getByRole('button', { name: '+ Argument' }).click();
  await command.getByLabel('Argument 4', { exact: true }).fill('{{ title }}');
  await warning.waitFor({ state: 'detached', timeout: 15_000 });

  // Back to the unsafe form: a warning, not an error, so the rule saves.
  await command.getByLabel('Argument 2', { exact: true }).fill('echo "{{ title }}"');
  await warning.waitFor({ timeout: 15_000 });
  await page.getByRole('button', { name: 'Save rule' }).click();
  const rules = await waitForRule(agent.dataDir, 'shell-echo');
  const argv = (rules.then as { command?: { argv: string[] } }[]).find((a) => a.command)!.command!.argv;
  assert.deepEqual(argv.slice(0, 3), ['/bin/sh', '-c', 'echo "{{ title }}"']);
});

async function waitForRule(dataDir: string, id: string): Promise<Record<string, unknown> & { then: unknown[] }> {
  const until = Date.now() + 15_000;
  for (;;) {
    const doc = JSON.parse(readFileSync(path.join(dataDir, 'config.json'), 'utf8')) as { rules?: { id: string }[] };
    const rule = doc.rules?.find((r) => r.id === id);
    if (rule) return rule as unknown as Record<string, unknown> & { then: unknown[] };
    if (Date.now() > until) throw new Error(`rule ${id} was not saved`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
