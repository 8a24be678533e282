import { parseFlags, writeLine, type CliIO } from '../io.js';
import { parseBrokerUrl } from '../../base/mqtt.js';
import { runAgent } from '../../server/agent.js';

const USAGE = `usage: panoptes agent [--data DIR] [--port N] [--agent-id NAME] [--forward mqtt[s]://[user:pass@]host:port]
Runs the engine headless and serves the UI and the protocol on 127.0.0.1, on the port it had last time
(remembered in the data folder, so an open tab keeps working); --port 0 takes any free port.
--forward publishes every stored event to panoptes/<agent-id>/events on that MQTT broker (QoS 1, in order).
An agent started this way is not paired with any desktop: the desktops receiving from that broker list it as "not
paired", show its events, and send it no change. To manage it from a desktop, deploy it from there instead
(panoptes deploy [user@]host --broker URL --agent-id NAME, with that desktop's --data).`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const { flags, positional } = parseFlags(args, { port: 'number', 'agent-id': 'string', forward: 'string' }, USAGE);
  if (positional.length) {
    writeLine(io.stderr, `panoptes agent: unexpected argument "${positional[0]}"`);
    writeLine(io.stderr, USAGE);
    return 2;
  }
  const forward = flags.forward as string | undefined;
  if (forward !== undefined) {
    try {
      parseBrokerUrl(forward);
    } catch (err) {
      writeLine(io.stderr, `panoptes agent: --forward: ${(err as Error).message}`);
      return 2;
    }
  }
  return runAgent({
    dataDir: io.dataDir,
    port: flags.port as number | undefined,
    agentId: flags['agent-id'] as string | undefined,
    forward,
    stdout: io.stdout,
    stderr: io.stderr,
  });
}
