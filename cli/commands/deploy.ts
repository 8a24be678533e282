import { parseFlags, UsageError, writeLine, type CliIO } from '../io.js';
import { REMOTE_FLAGS, remoteTarget, runWhere } from './remote-flags.js';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { deploy, DeployError, DEFAULT_DIR } from '../../engine/fleet/deploy/deploy.js';
import { loadOrCreateIdentity, rememberDeployed } from '../../engine/fleet/identity.js';
import { CliRunJournal } from '../../engine/fleet/deploy-runs.js';

function desktopIdentity(dataDir: string) {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return loadOrCreateIdentity(dataDir);
}

const USAGE = `usage: panoptes deploy [user@]host --broker URL [--agent-id NAME] [options]
       panoptes deploy [user@]host --upgrade [options]
Installs this build as a headless agent on another machine over SSH (your own ssh client, keys, ssh-agent,
~/.ssh/config and known_hosts; host may be a Host alias of your ssh config), registers it as a user service
(systemd --user, else a supervised process with a pid file), starts it and waits until it reports online on the
broker. Deploy pairs it with the desktop of this data folder (--data; its key is fleet-key there): the agent takes
configuration changes from that desktop alone, and the desktop takes what the agent says only when signed with the
agent's own key. --upgrade replaces the build and keeps its data and configuration (and pairs an agent deployed before
agents had keys); if the new version does not come online it is rolled back. The remote needs Node 20 or newer; no
internet there.

options:
  --broker URL         the MQTT broker it forwards to, mqtt[s]://[user:pass@]host:port (reachable from there)
  --agent-id NAME      its name on the broker (default: the host name)
  --port P             ssh port                      --identity FILE    ssh private key
  --known-hosts FILE   known_hosts to check the host key against (default: ssh's own)
  --ssh-config FILE    an ssh config file (ssh -F)
  --dir DIR            install folder there (default: ~/${DEFAULT_DIR})
  --node PATH          node there (default: node on the PATH of an ssh session)
  --service KIND       auto (default), systemd or pidfile
  --bundle FILE        deploy this packed build (.tar.gz) instead of packing the running one
  --timeout SECONDS    how long to wait for it to come online (default 90)`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseFlags(args, { ...REMOTE_FLAGS, broker: 'string', 'agent-id': 'string', service: 'string', bundle: 'string', upgrade: 'boolean', timeout: 'number' }, USAGE);
  const { flags, positional } = parsed;
  const remote = remoteTarget(parsed, USAGE);
  const service = flags.service as string | undefined;
  if (service !== undefined && !['auto', 'systemd', 'pidfile'].includes(service)) throw new UsageError(`--service is auto, systemd or pidfile (got ${service})`, USAGE);
  const say = (l: string) => writeLine(io.stderr, l);
  const desktop = desktopIdentity(io.dataDir);
  const upgrade = flags.upgrade === true;
  const given = flags['agent-id'] as string | undefined;
  // The run, step by step, in the data folder while it goes: killed, it shows in Settings → Machines as interrupted.
  const where = runWhere(remote);
  const journal = new CliRunJournal(io.dataDir, upgrade ? 'upgrade' : 'deploy', given ?? (upgrade ? null : remote.target.replace(/^.*@/, '').replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 64)), where);
  try {
    const r = await deploy({
      ...remote,
      broker: flags.broker as string | undefined,
      agentId: flags['agent-id'] as string | undefined,
      upgrade,
      service: service as 'auto' | 'systemd' | 'pidfile' | undefined,
      bundle: flags.bundle as string | undefined,
      onlineTimeoutMs: flags.timeout !== undefined ? (flags.timeout as number) * 1000 : undefined,
      // This data folder's desktop manages the new agent (Monitors → its machine); the key is made on first use.
      // An upgrade pairs an agent deployed before pairing existed (one already paired keeps its desktop).
      controller: { publicKey: desktop.publicKey, name: os.hostname() },
      say,
      step: journal.step,
      uploading: journal.uploading,
      identified: (id) => journal.named(id),
    });
    // From now on this desktop takes what the agent says (status, configuration, answers) only when signed with its key.
    rememberDeployed(io.dataDir, r, desktop.publicKey);
    // And this data folder's desktop knows where it is, as after a deploy from its form: Upgrade and Undeploy there.
    journal.done({ agentId: r.agentId, ...where, node: remote.node ?? null, service: r.service, release: r.release, deployedAt: new Date().toISOString() });
    writeLine(io.stdout, `${r.agentId} is online (Panoptes ${r.status.version ?? '?'} on ${r.status.hostname || positional[0]}, release ${r.release}, ${r.service === 'systemd' ? 'systemd --user unit' : 'supervised process'} in ${r.dir})`);
    if (r.service === 'systemd') writeLine(io.stdout, `(to keep it running while you are logged out there: loginctl enable-linger)`);
    return 0;
  } catch (err) {
    if (err instanceof DeployError) {
      journal.failed(err.message);
      writeLine(io.stderr, `panoptes deploy: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    journal.end();
  }
}
