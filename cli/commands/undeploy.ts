import { parseFlags, writeLine, type CliIO } from '../io.js';
import { REMOTE_FLAGS, remoteTarget, runWhere } from './remote-flags.js';
import { undeploy, DeployError, DEFAULT_DIR } from '../../engine/fleet/deploy/deploy.js';
import { forgetAgentKey } from '../../engine/fleet/identity.js';
import { CliRunJournal } from '../../engine/fleet/deploy-runs.js';

const USAGE = `usage: panoptes undeploy [user@]host [--keep-data] [options]
Stops the agent \`panoptes deploy\` installed there, removes its service and its folder (with --keep-data, its
data folder stays), and clears its status on the broker so it leaves the list of machines.

options:
  --port P  --identity FILE  --known-hosts FILE  --ssh-config FILE   as for deploy
  --dir DIR            install folder there (default: ~/${DEFAULT_DIR})
  --node PATH          node there (default: node on the PATH of an ssh session)`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseFlags(args, { ...REMOTE_FLAGS, 'keep-data': 'boolean' }, USAGE);
  const { flags, positional } = parsed;
  const remote = remoteTarget(parsed, USAGE);
  // Killed half-way, the run shows in Settings → Machines as interrupted, with the command that finishes it.
  const journal = new CliRunJournal(io.dataDir, 'undeploy', null, runWhere(remote));
  try {
    const r = await undeploy({
      ...remote,
      step: journal.step,
      keepData: flags['keep-data'] === true,
      say: (l) => writeLine(io.stderr, l),
      // Before its status is cleared: the desktop ignores an empty status of an agent whose key it holds.
      removed: (agentId) => {
        journal.named(agentId);
        forgetAgentKey(io.dataDir, agentId);
      },
    });
    // This data folder's desktop no longer offers Upgrade or Undeploy for it.
    journal.done();
    writeLine(io.stdout, `removed ${r.agentId ?? 'the agent'} from ${positional[0]}${r.cleared ? ' and cleared its status on the broker' : ''}`);
    return 0;
  } catch (err) {
    if (err instanceof DeployError) {
      journal.failed(err.message);
      writeLine(io.stderr, `panoptes undeploy: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    journal.end();
  }
}
