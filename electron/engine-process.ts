/**
 * The engine in an Electron utilityProcess, supervised: forked with `--data DIR`, restarted with backoff when it
 * dies, and reached through MessageChannelMain ports (one for the main process, one per window). Disk and rule work
 * happen there, so the tray never freezes.
 */
import { utilityProcess, MessageChannelMain, type UtilityProcess, type MessagePortMain } from 'electron';
import { RpcClient } from '../core/rpc/client.js';
import type { Channel } from '../core/rpc/channel.js';
import type { WireMessage } from '../core/protocol.js';
import type { NewEvent } from '../core/event.js';
import type { EngineToShellMessage, ShellToEngineMessage } from '../core/shell-messages.js';
import { restartDelayMs, failuresAfterExit } from './backoff.js';

export type EngineStatus = 'starting' | 'running' | 'restarting' | 'failed';

export interface EngineProcessOptions {
  modulePath: string;
  dataDir: string;
  log: (line: string) => void;
  /** A new client for the main process after each (re)start. */
  onClient: (client: RpcClient) => void;
  onStatus: (status: EngineStatus, detail: string | null) => void;
  /** Flags naming what the shell provides to the engine (`--secrets-from-shell`, `--idle-from-shell`). */
  engineArgs?: string[];
  /**
   * The engine's other messages to the shell (secrets, idle sampling); `reply` answers the process that asked,
   * so an answer never reaches an engine started after it.
   */
  onMessage?: (msg: EngineToShellMessage, reply: (answer: ShellToEngineMessage) => void) => void;
  /** The engine process is gone (exited, crashed or stopped): drop what served it. */
  onExit?: () => void;
}

/** Give up restarting after this many quick failures in a row; the tray says so and offers nothing but Quit. */
const MAX_QUICK_FAILURES = 8;

export class EngineProcess {
  private child: UtilityProcess | null = null;
  private startedAt = 0;
  private failures = 0;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: EngineProcessOptions) {}

  start(): void {
    this.stopping = false;
    this.opts.onStatus('starting', null);
    const child = utilityProcess.fork(this.opts.modulePath, ['--data', this.opts.dataDir, ...(this.opts.engineArgs ?? [])], {
      serviceName: 'Panoptes engine',
      stdio: 'pipe',
      env: { ...process.env, PANOPTES_DATA: this.opts.dataDir },
    });
    this.child = child;
    this.startedAt = Date.now();
    child.stdout?.on('data', (b: Buffer) => this.opts.log(b.toString().trimEnd()));
    child.stderr?.on('data', (b: Buffer) => this.opts.log(b.toString().trimEnd()));
    child.on('message', (msg: EngineToShellMessage) => {
      if (msg?.type !== 'ready') {
        this.opts.onMessage?.(msg, (answer) => {
          if (this.child === child) child.postMessage(answer);
        });
        return;
      }
      this.opts.onStatus('running', msg.configError ?? null);
      this.opts.onClient(new RpcClient(portChannel(this.connect())));
    });
    child.on('exit', (code) => {
      if (this.child !== child) return;
      this.opts.onExit?.();
      this.child = null;
      if (this.stopping) return;
      this.failures = failuresAfterExit(this.failures, Date.now() - this.startedAt);
      if (this.failures > MAX_QUICK_FAILURES) {
        this.opts.onStatus('failed', `the engine exited ${this.failures} times in a row (last code ${code})`);
        return;
      }
      const delay = restartDelayMs(this.failures);
      this.opts.log(`engine exited with code ${code}; restarting in ${delay} ms`);
      this.opts.onStatus('restarting', `exited with code ${code}`);
      this.restartTimer = setTimeout(() => this.start(), delay);
    });
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** A fresh connection to the engine: the returned port is the caller's end (main's client, or a window). */
  connect(): MessagePortMain {
    if (!this.child) throw new Error('the engine is not running');
    const { port1, port2 } = new MessageChannelMain();
    this.child.postMessage({ type: 'connect' } satisfies ShellToEngineMessage, [port1]);
    return port2;
  }

  /**
   * Hand an OS signal to the engine as an event (utility-main stores it through the engine's durable emit). Lost
   * while the engine is down, which is acceptable for lock/suspend signals: they describe a moment, not data.
   */
  emit(source: string, event: NewEvent): void {
    this.child?.postMessage({ type: 'emit', source, event } satisfies ShellToEngineMessage);
  }

  /** A message for the running engine (dropped while it is down). */
  post(message: ShellToEngineMessage): void {
    this.child?.postMessage(message);
  }

  /** Ask the engine to close its store cleanly, then make sure it is gone. */
  async stop(graceMs = 3000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill();
        resolve();
      }, graceMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.postMessage({ type: 'shutdown' } satisfies ShellToEngineMessage);
    });
    this.child = null;
    this.opts.onExit?.();
  }
}

/** The protocol's Channel over a main-process MessagePort (structured clone, no JSON). */
export function portChannel(port: MessagePortMain): Channel {
  const closers: (() => void)[] = [];
  let closed = false;
  port.on('close', () => {
    if (closed) return;
    closed = true;
    closers.forEach((c) => c());
  });
  const ch: Channel = {
    send: (m: WireMessage) => {
      if (!closed) port.postMessage(m);
    },
    onMessage: (l) => port.on('message', (e) => l(e.data as WireMessage)),
    onClose: (l) => void closers.push(l),
    close: () => port.close(),
  };
  port.start();
  return ch;
}
