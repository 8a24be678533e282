// The deploy tests' SSH server: a real sshd on loopback that lets the test key in, checks host keys the way the
// user's ssh does, and refuses a stranger's key and a known_hosts that names another host key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { sshdAvailable, startSshd } from '../helpers/sshd.js';

const skip = sshdAvailable() ? false : 'skipped: no /usr/sbin/sshd (apt-get install openssh-server openssh-client)';

test('the test sshd runs a command for the test key, and refuses a wrong key and a mismatched host key', { skip, timeout: 60_000 }, async (t) => {
  const sshd = await startSshd();
  t.after(() => sshd.close());
  const ok = spawnSync('ssh', [...sshd.sshArgs(), sshd.target, 'echo hello-from-$(id -un)'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(ok.status, 0, ok.stderr + sshd.log.join('\n'));
  assert.equal(ok.stdout.trim(), `hello-from-${sshd.user}`);

  const stranger = spawnSync('ssh', ['-p', String(sshd.port), '-i', sshd.strangerIdentity, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${sshd.knownHosts}`, '-o', 'BatchMode=yes', sshd.target, 'true'], { encoding: 'utf8', timeout: 30_000 });
  assert.notEqual(stranger.status, 0);
  assert.match(stranger.stderr, /Permission denied \(publickey\)/);

  const mismatch = spawnSync('ssh', ['-p', String(sshd.port), '-i', sshd.identity, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${sshd.wrongKnownHosts}`, '-o', 'BatchMode=yes', sshd.target, 'true'], { encoding: 'utf8', timeout: 30_000 });
  assert.notEqual(mismatch.status, 0);
  assert.match(mismatch.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
});
