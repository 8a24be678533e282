// Shared plumbing for the test harness's real servers (Dovecot, ngIRCd, aiosmtpd…): a free loopback port, an
// unprivileged identity to run them as, a temp folder that identity owns, and a child process whose output is
// kept (for assertions and for failure messages) and which is stopped for sure at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunIdentity {
  uid: number;
  gid: number;
  user: string;
  group: string;
  /** True when we are root and drop to `nobody` for the server. */
  dropped: boolean;
}

/** Servers never run as root here: as root we drop to nobody/nogroup, otherwise we stay who we are. */
export function serverIdentity(): RunIdentity {
  const me = os.userInfo();
  if (me.uid !== 0) return { uid: me.uid, gid: me.gid, user: me.username, group: groupName(me.gid) ?? String(me.gid), dropped: false };
  const gid = 65534;
  return { uid: 65534, gid, user: 'nobody', group: groupName(gid) ?? 'nogroup', dropped: true };
}

function groupName(gid: number): string | undefined {
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === gid) return name;
    }
  } catch {
    /* no /etc/group: fall through */
  }
  return undefined;
}

/** A temp folder the server identity owns (recursively re-owned by `chownTree` after writing into it). */
export function serverTempDir(prefix: string, who: RunIdentity = serverIdentity()): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `panoptes-${prefix}-`));
  chownTree(dir, who);
  return dir;
}

export function chownTree(p: string, who: RunIdentity = serverIdentity()): void {
  if (!who.dropped) return;
  try {
    chownSync(p, who.uid, who.gid);
    if (statSync(p).isDirectory()) for (const name of readdirSync(p)) chownTree(path.join(p, name), who);
  } catch (err) {
    // The running server may remove a file of its own between our readdir and chown (Dovecot's
    // dovecot-uidlist.tmp, renamed into place): gone is fine, there is nothing left to re-own.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface ServerProcess {
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr, line by line. */
  output: string[];
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** SIGSTOP / SIGCONT the whole group: sockets stay open but nothing answers (a half-dead server). */
  freeze(): void;
  thaw(): void;
}

const live = new Set<ChildProcess>();
const signalGroup = (child: ChildProcess, signal: NodeJS.Signals) => {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
};
// A test that crashes must not leave servers behind holding ports.
process.once('exit', () => {
  for (const c of live) {
    signalGroup(c, 'SIGCONT');
    signalGroup(c, 'SIGKILL');
  }
});

export function spawnServer(cmd: string, args: string[], who: RunIdentity = serverIdentity(), cwd?: string): ServerProcess {
  // Own process group, so stop/freeze reach the server's worker processes too (Dovecot forks imap-login, imap…).
  const child = spawn(cmd, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...(who.dropped ? { uid: who.uid, gid: who.gid } : {}) });
  live.add(child);
  child.on('exit', () => live.delete(child));
  const output: string[] = [];
  let partial = '';
  const collect = (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    output.push(...lines);
    if (process.env.PANOPTES_SERVER_LOG) for (const l of lines) process.stderr.write(`[${path.basename(cmd)}] ${l}\n`);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', (err) => {
      output.push(`spawn failed: ${err.message}`);
      resolve(-1);
    });
  });
  return {
    child,
    output,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup(child, 'SIGCONT');
      signalGroup(child, signal);
      const killer = setTimeout(() => signalGroup(child, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
      // Workers may outlive the master for a moment; make sure none keeps the port.
      signalGroup(child, 'SIGKILL');
    },
    freeze: () => signalGroup(child, 'SIGSTOP'),
    thaw: () => signalGroup(child, 'SIGCONT'),
  };
}

/**
 * Wait until `port` accepts a connection and (optionally) greets with text matching `greeting`; fail early,
 * with the server's own output, if the process exits first.
 */
export async function waitUntilListening(port: number, server: ServerProcess, opts: { greeting?: RegExp; send?: string; timeoutMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let exited = false;
  void server.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`server exited before it listened:\n${server.output.slice(-30).join('\n')}`);
    if (await probe(port, opts.greeting, opts.send)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not listen on ${port} in time:\n${server.output.slice(-30).join('\n')}`);
}

function probe(port: number, greeting?: RegExp, send?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    const done = (ok: boolean) => {
      clearTimeout(t);
      sock.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), 2_000);
    sock.on('connect', () => {
      if (send) sock.write(send);
      if (!greeting) done(true);
    });
    sock.on('data', (d) => {
      got += d.toString('utf8');
      if (greeting?.test(got)) done(true);
    });
    sock.on('error', () => done(false));
    sock.on('close', () => done(false));
  });
}
