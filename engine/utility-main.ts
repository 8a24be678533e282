/**
 * Entry of the engine inside Electron's utilityProcess: disk and rule work never run on the tray's thread.
 * Every `{ type: 'connect' }` message from the main process carries a MessagePort; the protocol is served on it
 * (structured-clone WireMessages). `--data DIR` names the data folder.
 */
import { Engine } from './engine.js';
import { createLogger } from '../core/log.js';
import type { Channel } from '../core/rpc/channel.js';
import type { WireMessage } from '../core/protocol.js';
import { RelayedSecretStore, isSecretsReply, type SecretsData } from '../core/relayed-secrets.js';
import type { SecretStore } from '../core/secrets.js';
import type { MonitorDefinition } from '../core/monitor.js';
import type { EmitMessage, EngineToShellMessage, ShellToEngineMessage } from '../core/shell-messages.js';
import { createIdleDefinition, IdleRelay, loadMonitorTypes, ShellPageRenderer, usePageRenderer } from './monitor-registry.js';
import { startRouteServer, type RouteServer } from './route-server.js';
import { loadOrCreateToken } from './token.js';
import { publishEndpoint } from './local-endpoint.js';

interface PortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  on(event: 'close', listener: () => void): void;
  start(): void;
  close(): void;
}

interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown; ports: PortLike[] }) => void): void;
  postMessage(message: EngineToShellMessage): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
const i = process.argv.indexOf('--data');
const dataDir = i >= 0 ? process.argv[i + 1] : process.env.PANOPTES_DATA;
if (!parentPort || !dataDir) {
  console.error('engine/utility-main: run by the desktop shell as a utilityProcess with --data DIR');
  process.exit(2);
}

const log = createLogger('engine');

// Desktop app (flags set by electron/engine-process.ts): secrets come from the shell, which keeps them encrypted
// with safeStorage (absent in a utilityProcess), and idle time comes from the shell's powerMonitor.
// Rendered web pages load in the shell's offscreen windows (Electron brings its Chromium), not a Chromium of the machine.
const fromShell = new Set(process.argv.filter((a) => a === '--secrets-from-shell' || a === '--idle-from-shell' || a === '--render-from-shell'));
let shellSecrets: ((msg: unknown) => void) | null = null;
const idleRelay = fromShell.has('--idle-from-shell') ? new IdleRelay((m) => parentPort.postMessage(m)) : null;
const shellRenderer = fromShell.has('--render-from-shell') ? new ShellPageRenderer((m) => parentPort.postMessage(m)) : null;
if (shellRenderer) usePageRenderer(shellRenderer);
parentPort.on('message', (e) => {
  if (idleRelay?.onMessage(e.data)) return;
  if (shellRenderer?.onMessage(e.data)) return;
  if (isSecretsReply(e.data) && shellSecrets) shellSecrets(e.data);
});

let secrets: SecretStore | undefined;
if (fromShell.has('--secrets-from-shell')) {
  const reply = await new Promise<unknown>((resolve) => {
    shellSecrets = resolve;
    parentPort.postMessage({ type: 'secrets-request' });
  });
  shellSecrets = null;
  if (isSecretsReply(reply)) {
    if (reply.mode === 'relay') {
      secrets = new RelayedSecretStore(reply.data, (data: SecretsData) => parentPort.postMessage({ type: 'secrets-changed', data }));
    } else {
      log.warn(`secrets stay in the 0600 file: ${reply.reason}`);
    }
  }
}
let definitions: Map<string, MonitorDefinition> | undefined;
if (idleRelay) {
  definitions = await loadMonitorTypes(log);
  definitions.set('idle', createIdleDefinition(idleRelay.probeFactory) as unknown as MonitorDefinition);
}

const engine = await Engine.open({ dataDir, log, secrets, definitions });
let routeServer: RouteServer | null = null;
let unpublish = () => {};

parentPort.on('message', (e) => {
  const msg = e.data as Partial<ShellToEngineMessage> | null;
  if (msg?.type === 'connect' && e.ports[0]) engine.connect(portChannel(e.ports[0]));
  if (msg?.type === 'shutdown') {
    unpublish();
    void Promise.resolve(routeServer?.close()).then(() => engine.close()).then(() => process.exit(0));
  }
  // OS signals seen by the desktop shell (lock, suspend, power): stored like any monitor's events.
  if (msg?.type === 'emit') {
    const m = msg as { source?: unknown; event?: unknown };
    if (typeof m.source === 'string' && m.event && typeof m.event === 'object') {
      void engine.emit(m.source, m.event as EmitMessage['event']).catch((err: Error) => log.warn(`shell event dropped: ${err.message}`));
    }
  }
});
// One local server on 127.0.0.1 for what the desktop has no agent server for: the monitor types' routes (webhook,
// heartbeat) and the protocol for the CLI, published in agent.json as the headless agent does, so `rules import`,
// `opml import` and `panoptes tail` go through this engine instead of editing config.json under it. On the same port
// as last time when it is free (senders keep working across restarts).
{
  const remembered = engine.store.kv.get<number>('routesPort');
  const protocol = { host: engine, token: loadOrCreateToken(dataDir), log: (m: string) => log.warn(m) };
  const start = (port: number) => startRouteServer(() => engine.monitorRoutes(), port, protocol);
  try {
    routeServer = await start(remembered ?? 0).catch(() => start(0));
    if (routeServer.port !== remembered) engine.store.kv.set('routesPort', routeServer.port);
    engine.servesRoutesAt(routeServer.url);
    unpublish = publishEndpoint(dataDir, { port: routeServer.port, url: `${routeServer.url}/` });
  } catch (err) {
    // The CLI then edits config.json under its lock, which this engine takes in at once: slower, never lost.
    log.warn(`no local port (monitor routes and the CLI's protocol not served): ${(err as Error).message}`);
    engine.servesRoutesAt(null, `this app cannot receive on a local port here: ${(err as Error).message}`);
  }
}

parentPort.postMessage({ type: 'ready', configError: engine.config.loadError?.message ?? null });

function portChannel(port: PortLike): Channel {
  const closers: (() => void)[] = [];
  port.on('close', () => closers.forEach((c) => c()));
  const ch: Channel = {
    send: (m) => port.postMessage(m),
    onMessage: (l) => port.on('message', (e) => l(e.data as WireMessage)),
    onClose: (l) => void closers.push(l),
    close: () => port.close(),
  };
  port.start();
  return ch;
}
