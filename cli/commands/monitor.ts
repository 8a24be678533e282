import { parseFlags, writeLine, type CliIO } from '../io.js';
import { loadMonitorTypes } from '../../engine/monitor-registry.js';
import { dryRunMonitor, ConfigInvalidError } from '../../core/monitor-host.js';
import { createLogger } from '../../core/log.js';
import { signInCommand, signOutCommand } from '../sign-in.js';

const USAGE = `usage: panoptes monitor test <type> --config JSON [--secrets JSON] [--timeout SECONDS]
       panoptes monitor types
       panoptes monitor signin <id>
       panoptes monitor signout <id>
"test" prints, one JSON line each, the events the monitor would emit right now, as if all of it were new; it changes nothing.
"signin" signs a monitor in with OAuth (a mail account with Google, Microsoft or another provider) without a browser
on this machine: it prints an address and a code to enter on any device, waits, and keeps the sign-in in the secret
store of the Panoptes running on the data folder (or, when none runs, in its 0600 secrets.json for the next start).
"signout" forgets the sign-in.`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const { flags, positional } = parseFlags(args, { config: 'string', secrets: 'string', timeout: 'number' }, USAGE);
  const [sub, type, ...extra] = positional;
  if ((sub === 'signin' || sub === 'signout') && type && !extra.length && !flags.config && !flags.secrets) {
    return sub === 'signin' ? signInCommand(type, io) : signOutCommand(type, io);
  }
  const log = createLogger('monitor', 'error', (l) => io.stderr.write(l + '\n'));
  const types = await loadMonitorTypes(log);
  if (sub === 'types' && !type) {
    for (const d of types.values()) writeLine(io.stdout, `${d.type.padEnd(12)} ${d.title} — ${d.description}`);
    return 0;
  }
  if (sub !== 'test' || !type || extra.length) {
    writeLine(io.stderr, USAGE);
    return 2;
  }
  const def = types.get(type);
  if (!def) {
    writeLine(io.stderr, `panoptes monitor test: unknown monitor type "${type}" (known: ${[...types.keys()].join(', ')})`);
    return 2;
  }
  let config: unknown = {};
  let secrets: Record<string, string> = {};
  try {
    config = flags.config ? JSON.parse(String(flags.config)) : {};
    secrets = flags.secrets ? JSON.parse(String(flags.secrets)) : {};
  } catch (err) {
    writeLine(io.stderr, `panoptes monitor test: --config/--secrets must be JSON: ${(err as Error).message}`);
    return 2;
  }
  try {
    const events = await dryRunMonitor(def, { ...(config as object), ...secrets }, secrets, { timeoutMs: Number(flags.timeout ?? 30) * 1000 });
    for (const e of events) writeLine(io.stdout, JSON.stringify(e));
    return 0;
  } catch (err) {
    if (err instanceof ConfigInvalidError) {
      for (const i of err.issues) writeLine(io.stderr, `panoptes monitor test: config ${i.path}: ${i.message}`);
      return 2;
    }
    writeLine(io.stderr, `panoptes monitor test: ${type}: ${(err as Error).message}`);
    return 2;
  }
}
