import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseFlags, writeLine, type CliIO } from '../io.js';
import { findElectronBinary, missingRuntimeReason } from '../../electron/runtime.js';
import { runAgent } from '../../server/agent.js';

const USAGE = `usage: panoptes start [--data DIR] [--port N]
Starts the desktop app; where the Electron runtime is missing, runs the same engine headless and prints the UI's URL.`;

const projectRoot = path.resolve(fileURLToPath(new URL('../../..', import.meta.url)));

export async function run(args: string[], io: CliIO): Promise<number> {
  const { flags } = parseFlags(args, { port: 'number' }, USAGE);
  const electron = findElectronBinary(projectRoot);
  if (!electron) {
    writeLine(io.stdout, `Panoptes: desktop shell unavailable — ${missingRuntimeReason(projectRoot)}; running headless instead.`);
    return runAgent({ dataDir: io.dataDir, port: flags.port as number | undefined, stdout: io.stdout, stderr: io.stderr });
  }
  const main = path.join(projectRoot, 'dist', 'electron', 'main.js');
  const child = spawn(electron, [main, '--data', io.dataDir], { stdio: 'inherit', env: { ...process.env, PANOPTES_DATA: io.dataDir } });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 0)));
}
