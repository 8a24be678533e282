/**
 * Settings → Machines → Deploy an agent, refused: in Debian's Chromium against the real headless agent (the
 * desktop), a real OpenSSH server on loopback (this machine, the test key, host keys checked) and a real Mosquitto
 * (set up by deploy-form.ts). Each bad input is said in the form in the CLI's words and leaves nothing installed: a
 * changed host key, a key the server does not take, no Node, an old Node, a folder it cannot write, a broker the
 * machine cannot reach; the ssh fields' own problems at their fields. (Deploys that work are machines-deploy.test.ts
 * and machines-upgrade.test.ts: one file each keeps each under the runner's 5 minutes a file.)
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { closedPort } from '../helpers/ports.js';
import { deployForm } from './deploy-form.js';

const { get, uiTest } = deployForm();

uiTest('Deploy from Settings → Machines: each bad input said in the form in the CLI\'s words, nothing left installed', 290_000, async () => {
  const d = get();
  const form = await d.openForm();

  // Nothing to deploy to, or a file the ssh options name that is not there: said at the field, nothing run.
  await d.fill({ target: '' });
  await form.getByRole('button', { name: 'Deploy' }).click();
  await form.locator('.field-issue[data-path="$.target"]').getByText(/user@host/).waitFor();
  await d.fill({ sshConfig: path.join(d.work, 'no-such-config'), target: `${d.sshd.target}:${d.sshd.port}` });
  await form.getByRole('button', { name: 'Deploy' }).click();
  await form.locator('.field-issue[data-path="$.sshConfig"]').getByText(/no file at .*no-such-config/).waitFor();
  await form.locator('.field-issue[data-path="$.target"]').getByText(/ssh does not take host:port/).waitFor();
  assert.equal(await d.run().count(), 0);

  assert.match(await d.refused({ knownHosts: d.sshd.wrongKnownHosts }), /host key of 127\.0\.0\.1 does not match the one in your known_hosts.*never skips this check/);
  // The steps so far: the check, failed.
  assert.equal(await d.run().locator('li[data-step="check"][data-state="failed"]').count(), 1);
  assert.match(await d.refused({ identity: d.sshd.strangerIdentity }), /refused the login \(publickey\)/);
  assert.match(await d.refused({ node: '/nonexistent/bin/node' }), /there is no Node at \/nonexistent\/bin\/node on 127\.0\.0\.1: install Node 20 or newer/);
  const oldNode = path.join(d.work, 'old-node');
  writeFileSync(oldNode, `#!/bin/sh\n[ "$1" = "-e" ] || exec ${process.execPath} "$@"\nexec ${process.execPath} -e "Object.defineProperty(process, 'version', { value: 'v16.20.2' }); $2"\n`, { mode: 0o755 });
  assert.match(await d.refused({ node: oldNode }), /Node v16\.20\.2 on 127\.0\.0\.1 is too old: the agent needs Node 20 or newer/);
  // No write permission (as root, permissions do not stop us: a file where a folder should be does).
  let readOnly: string;
  if (process.getuid?.() === 0) {
    writeFileSync(path.join(d.work, 'a-file'), '');
    readOnly = path.join(d.work, 'a-file', 'agent');
  } else {
    mkdirSync(path.join(d.work, 'ro'), { mode: 0o500 });
    readOnly = path.join(d.work, 'ro', 'agent');
  }
  assert.match(await d.refused({ dir: readOnly }), /cannot write to .*(a-file|ro)\/agent.*choose a folder this user can write/);
  assert.match(await d.refused({ broker: `mqtt://127.0.0.1:${await closedPort()}` }), /the broker 127\.0\.0\.1:\d+ is not reachable from .* \(connection refused\); the agent would never come online/);

  assert.deepEqual(d.watch.problems, []);
});
