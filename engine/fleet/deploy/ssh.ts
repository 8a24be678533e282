// The user's own `ssh` and `scp`, run as child processes: their keys, agent, config and known_hosts apply. Host
// key checking is never turned off; BatchMode keeps a missing key from hanging on a password prompt. What ssh
// says when it fails is turned into one sentence that says what to do.
import { spawn, spawnSync } from 'node:child_process';

export interface SshTarget {
  /** `user@host` or `host` (as ssh takes it, including names from ~/.ssh/config). */
  target: string;
  port?: number | undefined;
  identity?: string | undefined;
  knownHosts?: string | undefined;
  sshConfig?: string | undefined;
}

export class DeployError extends Error {}

function commonOptions(t: SshTarget, portFlag: '-p' | '-P'): string[] {
  const o = ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15'];
  if (t.sshConfig) o.push('-F', t.sshConfig);
  if (t.port !== undefined) o.push(portFlag, String(t.port));
  if (t.identity) o.push('-i', t.identity, '-o', 'IdentitiesOnly=yes');
  if (t.knownHosts) o.push('-o', `UserKnownHostsFile=${t.knownHosts}`);
  return o;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], input?: string, timeoutMs = 300_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new DeployError(err.code === 'ENOENT' ? `\`${cmd}\` is not installed here; deploy uses your own OpenSSH client (apt-get install openssh-client)` : `${cmd}: ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** ssh's own failure (exit 255) as a sentence; null when the failure was the remote command's. */
export function sshFailure(t: SshTarget, r: RunResult): string | null {
  if (r.code !== 255) return null;
  const e = r.stderr;
  const host = t.target.replace(/^.*@/, '');
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(e)) return `the host key of ${host} does not match the one in your known_hosts: someone may be intercepting the connection, or the machine was reinstalled. Check the key, then remove the old one with \`ssh-keygen -R ${host}\` — deploy never skips this check`;
  if (/No .* host key is known for|Host key verification failed/.test(e)) return `${host} is not in your known_hosts yet: connect once with \`ssh ${t.target}\` to check and accept its host key, then deploy again`;
  if (/Permission denied/.test(e)) return `${t.target} refused the login (${/\(([^)]*)\)/.exec(e)?.[1] ?? 'no accepted key'}): give the right key with --identity or add yours to that user's ~/.ssh/authorized_keys`;
  if (/Connection refused/.test(e)) return `nothing answers ssh on ${host}${t.port ? ` port ${t.port}` : ''} (connection refused)`;
  if (/Could not resolve hostname/.test(e)) return `the host name ${host} does not resolve`;
  if (/timed out/i.test(e)) return `${host} did not answer ssh in time`;
  return `ssh to ${t.target} failed: ${e.trim().split('\n').pop()}`;
}

export async function ssh(t: SshTarget, command: string, input?: string, timeoutMs?: number): Promise<RunResult> {
  const r = await run('ssh', [...commonOptions(t, '-p'), t.target, command], input, timeoutMs);
  const why = sshFailure(t, r);
  if (why) throw new DeployError(why);
  return r;
}

export async function scp(t: SshTarget, local: string, remote: string): Promise<void> {
  // -q: no progress meter; the ssh options are the same, with scp's -P for the port.
  const r = await run('scp', ['-q', ...commonOptions(t, '-P'), local, `${t.target}:${remote}`]);
  if (r.code !== 0) throw new DeployError(sshFailure(t, { ...r, code: 255 }) ?? `copying the build to ${t.target} failed: ${r.stderr.trim()}`);
}

/**
 * What the user's ssh makes of the target and options without connecting (`ssh -G`: the config files read, a host
 * alias resolved): null when it takes them, else what it said (a bad line of an ssh config file, an unknown option).
 */
export function sshConfigProblem(t: SshTarget): string | null {
  const r = spawnSync('ssh', ['-G', ...commonOptions(t, '-p'), t.target], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? '`ssh` is not installed here; deploy uses your own OpenSSH client (apt-get install openssh-client)' : null;
  if (r.status === 0) return null;
  const lines = (r.stderr ?? '').trim().split('\n').filter((l) => l && !/terminating, \d+ bad configuration options?$|^Pseudo-terminal will not be allocated/.test(l));
  return lines.join(' / ') || `ssh -G exited with ${r.status}`;
}

/** Quote one word for the remote POSIX shell. */
export const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
