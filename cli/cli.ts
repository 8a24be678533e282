import path from 'node:path';
import { defaultDataDir } from '../core/data-dir.js';
import { UsageError, writeLine, type CliIO } from './io.js';

const USAGE = `usage: panoptes <command> [options]

commands:
  start                     the desktop app (falls back to the headless agent where Electron is missing)
  agent [--port N] [--agent-id NAME] [--forward URL]
                            run headless: monitors, rules, and the UI on http://127.0.0.1; --forward sends
                            its events to an MQTT broker a desktop receives from
  events [--search Q] [--source S] [--type T] [--since ISO] [--limit N] [--json]
                            list stored events, newest first
  monitor test <type> --config JSON
                            dry run: print the events a monitor would emit now (one JSON line each)
  monitor types             list the monitor types
  monitor signin|signout ID sign a monitor in with OAuth by a code entered on another device (headless agents), or out
  rules validate|import|export FILE
                            check, load or save rules
  replay --rules FILE --events FILE.jsonl [--flags a=true] [--until ISO]
                            run rules over events in event time, no side effects
  opml import|export FILE   feeds from/to OPML
  tail [--source S] [--type T] [--lines N] [--json]
                            follow the running engine's events live, in colour
  deploy [user@]host --broker URL [--agent-id NAME] [--upgrade]
                            install and start an agent on another machine over SSH, paired with this desktop
  undeploy [user@]host      stop and remove it

While Panoptes runs on the data folder, rules/opml import and export go through it (it applies the change at once,
and refuses one prepared from a configuration that changed in between); otherwise they edit config.json.

global options:
  --data DIR                the data folder (default: ${defaultDataDir()}; or PANOPTES_DATA)
`;

/** Commands live in cli/commands/<name>.js and export run(args, io). */
const COMMANDS = new Set(['agent', 'start', 'events', 'monitor', 'rules', 'replay', 'opml', 'tail', 'deploy', 'undeploy']);

export async function main(argv: string[], stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Promise<number> {
  const args = [...argv];
  let dataDir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--data' || args[i]?.startsWith('--data=')) {
      const v = args[i]!.includes('=') ? args[i]!.slice(7) : args[i + 1];
      if (!v) {
        writeLine(stderr, 'panoptes: --data needs a folder');
        return 2;
      }
      dataDir = path.resolve(v);
      args.splice(i, args[i]!.includes('=') ? 1 : 2);
      i--;
    }
  }
  const [command, ...rest] = args;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    (command ? stdout : stderr).write(USAGE);
    return command ? 0 : 2;
  }
  if (!COMMANDS.has(command)) {
    writeLine(stderr, `panoptes: unknown command "${command}"`);
    stderr.write(USAGE);
    return 2;
  }
  const io: CliIO = { stdout, stderr, dataDir: dataDir ?? defaultDataDir() };
  try {
    const mod = (await import(`./commands/${command}.js`)) as { run(args: string[], io: CliIO): Promise<number> };
    return await mod.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      if (err.message) writeLine(stderr, `panoptes ${command}: ${err.message}`);
      // Asked for (--help): the usage is the answer, on stdout; after a mistake it goes with the message, on stderr.
      (err.message ? stderr : stdout).write(err.usage.endsWith('\n') ? err.usage : err.usage + '\n');
      return err.message ? 2 : 0;
    }
    writeLine(stderr, `panoptes ${command}: ${(err as Error).message}`);
    return 1;
  }
}

