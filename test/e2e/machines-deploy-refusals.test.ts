/**
 * Settings → Machines → Deploy an agent, refused: in Debian's Chromium against the real headless agent (the
 * desktop), a real OpenSSH server on loopback (this machine, the test key, host keys checked) and a real Mosquitto.
 * Each bad input is said in the form in the CLI's words and leaves nothing installed: a changed host key, a key the
 * server does not take, no Node, an old Node, a folder it cannot write, a broker the machine cannot reach. (The
 * deploy that works is machines-deploy.test.ts: one file each keeps both under the runner's 5 minutes a file.)
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { mosquittoAvailable, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { sshdAvailable, startSshd, type SshServer } from '../helpers/sshd.js';
import { closedPort } from '../helpers/ports.js';
import { launchChromium, openAgentPage, startAgent, watchPage, type Agent, type PageWatch, uiTest as harnessUiTest } from './harness.js';

const skip = !sshdAvailable() ? 'skipped: no /usr/sbin/sshd (apt-get install openssh-server openssh-client)' : !mosquittoAvailable() ? 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)' : false;

let broker: Mosquitto;
let sshd: SshServer;
let agent: Agent;
let browser: Browser;
let page: Page;
let watch: PageWatch;
let work: string;
let dir: string;

before(async () => {
  if (skip) return;
  work = mkdtempSync(path.join(os.tmpdir(), 'panoptes-e2e-deploy-'));
  dir = path.join(work, 'agent');
  broker = await startMosquitto({ persistence: false });
  sshd = await startSshd();
  agent = await startAgent((d) => writeFileSync(path.join(d, 'config.json'), JSON.stringify({ forwarding: { subscribe: [{ url: broker.url }] } })));
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1100, height: 1000 }, colorScheme: 'light' });
  page = await context.newPage();
  watch = watchPage(page);
});

after(async () => {
  // A failed step must not leave the deployed agent running: its supervisor stops it.
  try {
    process.kill(Number(readFileSync(path.join(dir, 'supervisor.pid'), 'utf8')), 'SIGTERM');
  } catch {
    /* not running */
  }
  await browser?.close();
  await agent?.stop();
  await sshd?.close();
  await broker?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const uiTest = (name: string, timeout: number, fn: () => Promise<void>) => harnessUiTest(() => page, name, { timeout, skip }, fn);

interface Fill {
  target?: string;
  agentId?: string;
  broker?: string;
  port?: string;
  identity?: string;
  knownHosts?: string;
  dir?: string;
  node?: string;
}

uiTest('Deploy from Settings → Machines: each bad input said in the form in the CLI\'s words, nothing left installed', 290_000, async () => {
  await openAgentPage(page, agent);
  await page.getByRole('link', { name: 'Settings' }).click();
  const form = page.getByRole('form', { name: 'Deploy an agent' });
  await form.waitFor();
  const brokerUrl = `mqtt://deployer:s3cret@127.0.0.1:${broker.port}`;
  const good: Fill = { target: sshd.target, agentId: 'fleet1', broker: brokerUrl, port: String(sshd.port), identity: sshd.identity, knownHosts: sshd.knownHosts, dir, node: '' };
  const fill = async (f: Fill) => {
    if (!(await form.locator('#dep-port').isVisible())) await form.getByText('SSH and install options').click();
    for (const [k, v] of Object.entries({ ...good, ...f })) await form.locator(`#dep-${k}`).fill(v ?? '');
    await form.locator('#dep-service').selectOption('pidfile');
  };
  const run = form.locator('.deploy-run');
  /** Click Deploy and wait for the new run (not the one shown before) to end in `state`. */
  const deployAndWait = async (state: 'failed' | 'done', timeout: number) => {
    const before = (await run.count()) ? await run.getAttribute('data-run') : null;
    await form.getByRole('button', { name: 'Deploy' }).click();
    await form.locator(`.deploy-run[data-state="${state}"]${before ? `:not([data-run="${before}"])` : ''}`).waitFor({ timeout });
  };
  /** Deploy with these fields and wait for the run to fail: its message. */
  const refused = async (f: Fill): Promise<string> => {
    await fill(f);
    await deployAndWait('failed', 90_000);
    const message = await run.getByRole('alert').innerText();
    assert.equal(existsSync(dir), false, `a refused deploy left ${dir} behind: ${message}`);
    return message;
  };

  // Nothing to deploy to: said at the field, nothing run.
  await fill({ target: '' });
  await form.getByRole('button', { name: 'Deploy' }).click();
  await form.locator('.field-issue[data-path="$.target"]').getByText(/user@host/).waitFor();

  assert.match(await refused({ knownHosts: sshd.wrongKnownHosts }), /host key of 127\.0\.0\.1 does not match the one in your known_hosts.*never skips this check/);
  // The steps so far: the check, failed.
  assert.equal(await run.locator('li[data-step="check"][data-state="failed"]').count(), 1);
  assert.match(await refused({ identity: sshd.strangerIdentity }), /refused the login \(publickey\)/);
  assert.match(await refused({ node: '/nonexistent/bin/node' }), /there is no Node at \/nonexistent\/bin\/node on 127\.0\.0\.1: install Node 20 or newer/);
  const oldNode = path.join(work, 'old-node');
  writeFileSync(oldNode, `#!/bin/sh\n[ "$1" = "-e" ] || exec ${process.execPath} "$@"\nexec ${process.execPath} -e "Object.defineProperty(process, 'version', { value: 'v16.20.2' }); $2"\n`, { mode: 0o755 });
  assert.match(await refused({ node: oldNode }), /Node v16\.20\.2 on 127\.0\.0\.1 is too old: the agent needs Node 20 or newer/);
  // No write permission (as root, permissions do not stop us: a file where a folder should be does).
  let readOnly: string;
  if (process.getuid?.() === 0) {
    writeFileSync(path.join(work, 'a-file'), '');
    readOnly = path.join(work, 'a-file', 'agent');
  } else {
    mkdirSync(path.join(work, 'ro'), { mode: 0o500 });
    readOnly = path.join(work, 'ro', 'agent');
  }
  assert.match(await refused({ dir: readOnly }), /cannot write to .*(a-file|ro)\/agent.*choose a folder this user can write/);
  assert.match(await refused({ broker: `mqtt://127.0.0.1:${await closedPort()}` }), /the broker 127\.0\.0\.1:\d+ is not reachable from .* \(connection refused\); the agent would never come online/);

  assert.deepEqual(watch.problems, []);
});
