import { fileURLToPath } from 'node:url';
import { Engine } from '../engine/engine.js';
import { createLogger } from '../core/log.js';
import { CorruptDatabaseError } from '../core/store/index.js';
import { startAgentServer } from './http-server.js';
import { loadOrCreateToken } from './token.js';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';

export interface AgentOptions {
  dataDir: string;
  port?: number;
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
  const server = await startAgentServer({ engine, token, port: opts.port ?? 0, uiDir: fileURLToPath(new URL('../renderer/', import.meta.url)), routes: engine.monitorRoutes().map((r) => r.handle) });
  const infoFile = path.join(opts.dataDir, 'agent.json');
  writeFileSync(infoFile, JSON.stringify({ pid: process.pid, port: server.port, url: server.url }) + '\n', { mode: 0o600 });
  opts.stdout.write(`Panoptes agent: open ${server.openUrl}\n`);
  opts.stdout.write(`(data in ${opts.dataDir}; stop with Ctrl+C)\n`);

  const stop =
    opts.until ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  await stop;
  await server.close();
  await engine.close();
  rmSync(infoFile, { force: true });
  return 0;
}
