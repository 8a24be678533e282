// A real OpenSSH server for tests, as the target of `panoptes deploy`: loopback only, a free port, a throw-away
// host key, and a throw-away client key in its authorized_keys. It runs as the user running the tests and lets
// that same user in (an unprivileged sshd can only log in as itself); as root it needs the privilege separation
// folder /run/sshd, which it creates. The client side gets a known_hosts file with the server's real host key, so
// tests talk to it with host key checking on (never StrictHostKeyChecking=no) and can also break that on purpose
// (`wrongKnownHosts`). `sshArgs` are the options a test gives `ssh`; `deployArgs` the same as `panoptes deploy` flags.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, removeDir, spawnServer, waitUntilListening, type ServerProcess } from './server-process.js';
import { mkdtempSync } from 'node:fs';

export const SSHD = '/usr/sbin/sshd';

export function sshdAvailable(): boolean {
  return existsSync(SSHD) && existsSync('/usr/bin/ssh') && existsSync('/usr/bin/ssh-keygen');
}

export interface SshServer {
  host: string;
  port: number;
  /** The user the client logs in as (the one running the tests). */
  user: string;
  /** `user@127.0.0.1`. */
  target: string;
  dir: string;
  /** The client's private key (its public half is in authorized_keys). */
  identity: string;
  /** The client's known_hosts, holding this server's host key under `[127.0.0.1]:port`. */
  knownHosts: string;
  /** A key the server does not know, for "wrong key" cases. */
  strangerIdentity: string;
  /** A known_hosts naming another host key for this server, for "host key mismatch" cases. */
  wrongKnownHosts: string;
  /** With `systemdUser`: the sessions' HOME and XDG_RUNTIME_DIR (systemctl --user reaches the manager through it). */
  home?: string;
  runtimeDir?: string;
  /** What sshd logged (it runs with -D -e). */
  readonly log: string[];
  /** Options for `ssh`/`scp` that reach this server with the test key, checking its host key. */
  sshArgs(): string[];
  /** The same as flags of `panoptes deploy`. */
  deployArgs(): string[];
  close(): Promise<void>;
}

function keygen(file: string, comment: string): void {
  execFileSync('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { stdio: 'ignore' });
}

export interface SshdOptions {
  /** Lines added to sshd_config (e.g. `SetEnv PATH=/nowhere` to hide Node from remote commands). */
  extraConfig?: string[];
  /**
   * Give ssh sessions a real systemd user manager (`systemd --user`, Debian's), for the deploy's systemd path. The
   * manager refuses to start unless the machine was booted with systemd (it looks for /run/systemd/system) — this
   * container's PID 1 is not systemd — so sshd and the manager run in a private mount namespace (root only) with a
   * tmpfs over /run/systemd holding that folder: nothing outside the namespace changes. Sessions get their own
   * XDG_RUNTIME_DIR and HOME (a temp folder, so units go to its ~/.config/systemd/user, never the real one).
   */
  systemdUser?: boolean;
}

export const SYSTEMD = '/lib/systemd/systemd';

/** Can `startSshd({ systemdUser: true })` run here: root (for the mount namespace), unshare and Debian's systemd. */
export function systemdUserAvailable(): boolean {
  return sshdAvailable() && process.getuid?.() === 0 && existsSync(SYSTEMD) && existsSync('/usr/bin/unshare') && existsSync('/usr/bin/systemctl');
}

export async function startSshd(opts: SshdOptions = {}): Promise<SshServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'panoptes-sshd-'));
  const port = await freePort();
  const user = os.userInfo().username;
  const hostKey = path.join(dir, 'host_ed25519');
  const otherHostKey = path.join(dir, 'other_host_ed25519');
  const identity = path.join(dir, 'client_ed25519');
  const stranger = path.join(dir, 'stranger_ed25519');
  keygen(hostKey, 'panoptes-test-host');
  keygen(otherHostKey, 'panoptes-test-other-host');
  keygen(identity, 'panoptes-test-client');
  keygen(stranger, 'panoptes-test-stranger');
  const authorized = path.join(dir, 'authorized_keys');
  writeFileSync(authorized, readFileSync(identity + '.pub'), { mode: 0o600 });
  const hostName = `[127.0.0.1]:${port}`;
  const pub = (f: string) => readFileSync(f + '.pub', 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const knownHosts = path.join(dir, 'known_hosts');
  writeFileSync(knownHosts, `${hostName} ${pub(hostKey)}\n`, { mode: 0o600 });
  const wrongKnownHosts = path.join(dir, 'known_hosts.wrong');
  writeFileSync(wrongKnownHosts, `${hostName} ${pub(otherHostKey)}\n`, { mode: 0o600 });

  const home = path.join(dir, 'home');
  const runtimeDir = path.join(dir, 'xdg');
  if (opts.systemdUser) {
    mkdirSync(home, { mode: 0o700 });
    mkdirSync(runtimeDir, { mode: 0o700 });
  }
  const conf = path.join(dir, 'sshd_config');
  writeFileSync(
    conf,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorized}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      // The temp folder lives in /tmp (world-writable parent): the strict ownership checks would refuse it.
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${user}`,
      'X11Forwarding no',
      'AllowTcpForwarding no',
      'PrintMotd no',
      // scp speaks SFTP since OpenSSH 9: a real server offers the subsystem.
      'Subsystem sftp /usr/lib/openssh/sftp-server',
      'LogLevel VERBOSE',
      ...(opts.systemdUser ? [`SetEnv HOME=${home} XDG_RUNTIME_DIR=${runtimeDir}`] : []),
      ...(opts.extraConfig ?? []),
    ].join('\n') + '\n',
  );
  // Privilege separation needs this empty folder when sshd runs as root; unprivileged sshd goes without it.
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755, recursive: true });
  const me = os.userInfo();
  const who = { uid: me.uid, gid: me.gid, user: me.username, group: String(me.gid), dropped: false };
  // sshd re-executes itself and so wants its absolute path.
  const managerPid = path.join(dir, 'systemd-user.pid');
  const server: ServerProcess = opts.systemdUser
    ? spawnServer(
        '/usr/bin/unshare',
        [
          '--mount',
          '--propagation',
          'private',
          '/bin/sh',
          '-c',
          `mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/system && ` +
            `{ HOME=${home} XDG_RUNTIME_DIR=${runtimeDir} ${SYSTEMD} --user --log-target=console >>${path.join(dir, 'systemd-user.log')} 2>&1 & echo $! >${managerPid}; } && ` +
            `exec ${SSHD} -D -e -f ${conf}`,
        ],
        who,
      )
    : spawnServer(SSHD, ['-D', '-e', '-f', conf], who);
  const stopManager = async () => {
    let pid = 0;
    try {
      pid = Number(readFileSync(managerPid, 'utf8'));
    } catch {
      return;
    }
    try {
      // It stops its units (the deployed agent) before it exits.
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 300; i++) {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 100));
      }
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  try {
    await waitUntilListening(port, server, { greeting: /^SSH-2\.0-/ });
  } catch (err) {
    await stopManager();
    await server.stop();
    removeDir(dir);
    throw err;
  }
  const target = `${user}@127.0.0.1`;
  return {
    host: '127.0.0.1',
    port,
    user,
    target,
    dir,
    identity,
    knownHosts,
    strangerIdentity: stranger,
    wrongKnownHosts,
    ...(opts.systemdUser ? { home, runtimeDir } : {}),
    log: server.output,
    sshArgs: () => ['-p', String(port), '-i', identity, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'BatchMode=yes'],
    deployArgs: () => ['--port', String(port), '--identity', identity, '--known-hosts', knownHosts],
    async close() {
      await stopManager();
      await server.stop();
      removeDir(dir);
    },
  };
}
