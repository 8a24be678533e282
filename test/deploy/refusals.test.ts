// `panoptes deploy` refusals, each one clear sentence, and nothing left on the remote: a changed host key, a key the
// server does not take, no Node, an old Node, a folder it cannot write, a broker that machine cannot reach.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { closedPort } from '../helpers/ports.js';
import { cli, running, setup, skip } from './helpers.js';

test('deploy refuses, in one sentence each, and leaves nothing behind', { skip, timeout: 290_000 }, async (t) => {
  const { sshd, work, dir, ssh, brokerUrl, base } = await setup(t);
  // --- refusals: each a clear sentence, and no install folder afterwards ---
  const wrongHost = await cli(['deploy', sshd.target, '--port', String(sshd.port), '--identity', sshd.identity, '--known-hosts', sshd.wrongKnownHosts, '--dir', dir, '--broker', brokerUrl]);
  assert.equal(wrongHost.code, 1, wrongHost.stderr);
  assert.match(wrongHost.stderr, /host key of 127\.0\.0\.1 does not match the one in your known_hosts.*never skips this check/);

  const wrongKey = await cli(['deploy', sshd.target, '--port', String(sshd.port), '--identity', sshd.strangerIdentity, '--known-hosts', sshd.knownHosts, '--dir', dir, '--broker', brokerUrl]);
  assert.equal(wrongKey.code, 1, wrongKey.stderr);
  assert.match(wrongKey.stderr, /refused the login \(publickey\).*--identity/);

  const noNode = await cli(['deploy', ...base, '--broker', brokerUrl, '--node', '/nonexistent/bin/node']);
  assert.equal(noNode.code, 1);
  assert.match(noNode.stderr, /there is no Node at \/nonexistent\/bin\/node on 127\.0\.0\.1: install Node 20 or newer/);

  // An old Node: the real one, reporting itself as 16.
  const oldNode = path.join(work, 'old-node');
  writeFileSync(oldNode, `#!/bin/sh\n[ "$1" = "-e" ] || exec ${process.execPath} "$@"\nexec ${process.execPath} -e "Object.defineProperty(process, 'version', { value: 'v16.20.2' }); $2"\n`, { mode: 0o755 });
  const old = await cli(['deploy', ...base, '--broker', brokerUrl, '--node', oldNode]);
  assert.equal(old.code, 1);
  assert.match(old.stderr, /Node v16\.20\.2 on 127\.0\.0\.1 is too old: the agent needs Node 20 or newer/);

  // No write permission (as root, permissions do not stop us: a file where a folder should be does).
  let readOnly: string;
  if (process.getuid?.() === 0) {
    writeFileSync(path.join(work, 'a-file'), '');
    readOnly = path.join(work, 'a-file', 'agent');
  } else {
    mkdirSync(path.join(work, 'ro'), { mode: 0o500 });
    readOnly = path.join(work, 'ro', 'agent');
  }
  const noWrite = await cli(['deploy', sshd.target, ...ssh, '--dir', readOnly, '--service', 'pidfile', '--broker', brokerUrl]);
  assert.equal(noWrite.code, 1);
  assert.match(noWrite.stderr, /cannot write to .*a-file\/agent|cannot write to .*ro\/agent/);
  assert.match(noWrite.stderr, /choose a folder this user can write with --dir/);

  const deadBroker = `mqtt://127.0.0.1:${await closedPort()}`;
  const unreachable = await cli(['deploy', ...base, '--broker', deadBroker]);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /the broker 127\.0\.0\.1:\d+ is not reachable from .* \(connection refused\); the agent would never come online/);

  // systemd asked for where the ssh sessions have no user manager.
  const noSystemd = await cli(['deploy', ...base, '--broker', brokerUrl, '--service', 'systemd']);
  assert.equal(noSystemd.code, 1);
  assert.match(noSystemd.stderr, /systemd --user is not available on .*; use --service pidfile \(or auto\)/);

  assert.equal(existsSync(dir), false, 'a refused deploy left the install folder behind');
  assert.equal(running(path.join(dir, 'supervise.mjs')), false);

});
