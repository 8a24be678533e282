// The flags `panoptes deploy` and `panoptes undeploy` share: which machine, how ssh reaches it, and where the agent
// lives there. One spec and one reader, so both commands name and check them alike.
import os from 'node:os';
import path from 'node:path';
import { UsageError, type parseFlags } from '../io.js';
import { DEFAULT_DIR } from '../../engine/fleet/deploy/deploy.js';

export const REMOTE_FLAGS = { port: 'number', identity: 'string', 'known-hosts': 'string', 'ssh-config': 'string', dir: 'string', node: 'string' } as const;

type Parsed = ReturnType<typeof parseFlags>;

/** The one host named and the ssh/installation options, or a usage error naming what is wrong. */
export function remoteTarget({ flags, positional }: Parsed, usage: string) {
  if (positional.length !== 1) throw new UsageError(positional.length ? `one host at a time (got ${positional.join(' ')})` : 'which machine? give [user@]host', usage);
  return {
    target: positional[0]!,
    port: flags.port as number | undefined,
    identity: flags.identity as string | undefined,
    knownHosts: flags['known-hosts'] as string | undefined,
    sshConfig: flags['ssh-config'] as string | undefined,
    dir: flags.dir as string | undefined,
    node: flags.node as string | undefined,
  };
}

/**
 * A file named on this machine as an absolute path: the desktop runs ssh with it later (Upgrade, Undeploy) from
 * another folder than this command's, and `~/` (quoted, unexpanded by the shell) is the user's home as ssh reads it.
 */
const fileHere = (p: string | undefined): string | null => (p ? path.resolve(p === '~' ? os.homedir() : p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p) : null);

/**
 * Where a run goes, as its journal keeps it (Settings → Machines shows it, and the command that finishes it) and, once
 * deployed, as the desktop keeps it to upgrade or undeploy the agent from its window.
 */
export function runWhere(remote: ReturnType<typeof remoteTarget>) {
  return {
    target: remote.target,
    port: remote.port ?? null,
    identity: fileHere(remote.identity),
    knownHosts: fileHere(remote.knownHosts),
    sshConfig: fileHere(remote.sshConfig),
    dir: remote.dir ?? DEFAULT_DIR,
  };
}
