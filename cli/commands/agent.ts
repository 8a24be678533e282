import { parseFlags, writeLine, type CliIO } from '../io.js';
import { runAgent } from '../../server/agent.js';

const USAGE = `usage: panoptes agent [--data DIR] [--port N] [--agent-id NAME]
Runs the engine headless and serves the UI and the protocol on 127.0.0.1.`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const { flags, positional } = parseFlags(args, { port: 'number', 'agent-id': 'string' }, USAGE);
  if (positional.length) {
    writeLine(io.stderr, `panoptes agent: unexpected argument "${positional[0]}"`);
    writeLine(io.stderr, USAGE);
    return 2;
  }
  return runAgent({
    dataDir: io.dataDir,
    port: (flags.port as number | undefined) ?? 0,
    agentId: flags['agent-id'] as string | undefined,
    stdout: io.stdout,
    stderr: io.stderr,
  });
}
