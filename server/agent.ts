import { fileURLToPath } from 'node:url';
import { Engine } from '../engine/engine.js';
import { createLogger } from '../core/log.js';
import { CorruptDatabaseError } from '../core/store/index.js';
import { startAgentServer } from './http-server.js';
import { loadOrCreateToken } from '../engine/token.js';
import { publishEndpoint } from '../engine/local-endpoint.js';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface AgentOptions {
  dataDir: string;
  /** Omitted: the port this data folder's agent had last time (so an open tab keeps working); 0: any free port. */
  port?: number | undefined;
  agentId?: string;
  /** `--forward URL`: forward events to this MQTT broker for this run. */
  forward?: string | undefined;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Resolves to stop the agent (tests); by default SIGINT/SIGTERM. */
  until?: Promise<void>;
}

/** `panoptes agent`: engine + local server; runs until a signal. Returns the exit code. */
export async function runAgent(opts: AgentOptions): Promise<number> {
  const log = createLogger('agent', undefined, (l) => opts.stderr.write(l + '\n'));
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  let engine: Engine;
  try {
    engine = await Engine.open({ dataDir: opts.dataDir, log, ...(opts.agentId ? { agentId: opts.agentId } : {}), ...(opts.forward ? { forward: { url: opts.forward, agentId: opts.agentId } } : {}) });
  } catch (err) {
    if (err instanceof CorruptDatabaseError) {
      opts.stderr.write(`panoptes: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  if (engine.config.loadError) {
    opts.stderr.write(`panoptes: ${engine.config.loadError.file} line ${engine.config.loadError.line}: ${engine.config.loadError.problem}\n` + `panoptes: running with the last good configuration; fix the file or change settings in the app\n`);
  }
  const token = loadOrCreateToken(opts.dataDir);
  const serve = (port: number) => startAgentServer({ engine, token, log: (m) => log.warn(m), port, uiDir: fileURLToPath(new URL('../renderer/', import.meta.url)), routes: engine.monitorRoutes().map((r) => r.handle) });
  const remembered = opts.port === undefined ? rememberedPort(opts.dataDir) : null;
  let server: Awaited<ReturnType<typeof serve>>;
  try {
    server = await serve(remembered ?? opts.port ?? 0);
  } catch (err) {
    if (remembered === null || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    opts.stderr.write(`panoptes: port ${remembered} is in use (another program, or another Panoptes); using a new one, so reopen the address below\n`);
    server = await serve(0);
  }
  if (opts.port !== 0) rememberPort(opts.dataDir, server.port);
  engine.servesRoutesAt(server.url);
  const unpublish = publishEndpoint(opts.dataDir, server);
  opts.stdout.write(`Panoptes agent: open ${server.openUrl}\n`);
  opts.stdout.write(`(data in ${opts.dataDir}; stop with Ctrl+C)\n`);

  const stop =
    opts.until ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  await stop;
  // A second Ctrl+C while shutting down means "now".
  const force = () => process.exit(130);
  if (!opts.until) process.once('SIGINT', force);
  await server.close();
  await engine.close();
  unpublish();
  return 0;
}

const PORT_FILE = 'agent-port';

function rememberedPort(dataDir: string): number | null {
  try {
    const port = Number(readFileSync(path.join(dataDir, PORT_FILE), 'utf8').trim());
    return Number.isInteger(port) && port > 0 && port < 65536 ? port : null;
  } catch {
    return null;
  }
}

function rememberPort(dataDir: string, port: number): void {
  const file = path.join(dataDir, PORT_FILE);
  writeFileSync(file, `${port}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

