// The flags `panoptes deploy` and `panoptes undeploy` share: which machine, how ssh reaches it, and where the agent
// lives there. One spec and one reader, so both commands name and check them alike.
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

/** Where a run goes, as its journal keeps it (Settings → Machines shows it, and the command that finishes it). */
export function runWhere(remote: ReturnType<typeof remoteTarget>) {
  return {
    target: remote.target,
    port: remote.port ?? null,
    identity: remote.identity ?? null,
    knownHosts: remote.knownHosts ?? null,
    sshConfig: remote.sshConfig ?? null,
    dir: remote.dir ?? DEFAULT_DIR,
  };
}
