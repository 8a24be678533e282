// The deploy's systemd path for real: a machine whose ssh sessions have a systemd user manager (Debian's, see
// test/helpers/sshd.ts `systemdUser`) gets a `systemd --user` unit (chosen by `--service auto`), enabled and
// started by the manager, online on the broker; undeploy stops it, disables it and removes the unit file. Where
// there is none (the other deploy tests' sshd), `auto` falls back to the supervised process (deploy.test.ts) and
// `--service systemd` is refused (refusals.test.ts).
//
// This deploy is also the one that packs this build itself (no `--bundle`): the path a user's `panoptes deploy` and
// the form take. Every other deploy test reuses the run's one packed build (helpers.ts sharedBundle) to save time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startMosquitto } from '../helpers/mosquitto.js';
import { startSshd, systemdUserAvailable } from '../helpers/sshd.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { cli, retainedStatus, running, skip } from './helpers.js';
import { PROJECT_ROOT } from '../helpers/agent-process.js';

const noManager = skip || (systemdUserAvailable() ? false : 'skipped: a systemd user manager needs root (a private mount namespace), unshare and /lib/systemd/systemd');

test('deploy --service auto on a machine with a systemd user manager: a unit, enabled and running; undeploy removes it', { skip: noManager, timeout: 290_000 }, async (t) => {
  const broker = await startMosquitto({ persistence: false });
  t.after(() => broker.close());
  const sshd = await startSshd({ systemdUser: true });
  t.after(() => sshd.close());
  const dir = path.join(tempDir(t, 'panoptes-deploy-systemd-'), 'agent');
  const ssh = sshd.deployArgs();
  const systemctl = (...args: string[]) => spawnSync('ssh', [...sshd.sshArgs(), sshd.target, `systemctl --user ${args.join(' ')}`], { encoding: 'utf8', timeout: 60_000 });
  // The sessions reach the manager.
  const env = systemctl('show-environment');
  assert.equal(env.status, 0, env.stderr + readFileSync(path.join(sshd.dir, 'systemd-user.log'), 'utf8'));

  const first = await cli(['deploy', '--data', path.join(dir, '..', 'desktop'), sshd.target, ...ssh, '--dir', dir, '--agent-id', 'fleet1', '--broker', broker.url, '--timeout', '120']);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.match(first.stderr, /^packing this build…$/m);
  assert.match(first.stderr, /^copying the build \(\d+\.\d MB\) to /m);
  // What it packed is this build: the release it runs there is this build's version.
  const built = JSON.parse(readFileSync(path.join(dir, 'current', 'panoptes-build.json'), 'utf8')) as { version: string };
  assert.equal(built.version, (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  assert.match(first.stdout, /fleet1 is online .*systemd --user unit in /);
  assert.match(first.stdout, /loginctl enable-linger/);
  const unit = path.join(sshd.home!, '.config', 'systemd', 'user', 'panoptes-agent-fleet1.service');
  const text = readFileSync(unit, 'utf8');
  assert.match(text, /^Description=Panoptes agent fleet1$/m);
  assert.match(text, new RegExp(`^ExecStart=\\S*node\\S* ${dir.replace(/[.]/g, '\\.')}/current/bin/panoptes\\.js agent --data ${dir.replace(/[.]/g, '\\.')}/data$`, 'm'));
  assert.match(text, /^Restart=on-failure$/m);
  assert.match(text, /^WantedBy=default\.target$/m);
  assert.equal(JSON.parse(readFileSync(path.join(dir, 'deploy.json'), 'utf8')).service, 'systemd');
  assert.equal(systemctl('is-enabled', 'panoptes-agent-fleet1.service').stdout.trim(), 'enabled');
  assert.equal(systemctl('is-active', 'panoptes-agent-fleet1.service').stdout.trim(), 'active');
  // The manager runs it, not a supervisor of ours.
  assert.equal(existsSync(path.join(dir, 'supervise.mjs')), false);
  assert.equal((await retainedStatus(broker.url, 'fleet1'))?.state, 'online');

  const gone = await cli(['undeploy', sshd.target, ...ssh, '--dir', dir]);
  assert.equal(gone.code, 0, gone.stderr);
  assert.equal(existsSync(unit), false);
  assert.equal(existsSync(dir), false);
  assert.notEqual(systemctl('is-active', 'panoptes-agent-fleet1.service').stdout.trim(), 'active');
  await waitFor(() => !running(path.join(dir, 'current', 'bin', 'panoptes.js')), 'the agent to be gone');
  assert.equal(await retainedStatus(broker.url, 'fleet1'), null);
});
