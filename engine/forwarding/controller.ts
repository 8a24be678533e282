// Forwarding as a part of the running engine that can be restarted on its own: saving new settings stops the
// forwarder, receivers and embedded broker and starts them again from the config document, while the store,
// monitors and rules keep running. Status changes are coalesced into one `forwarding` push.
import type { ForwardingHost } from './host.js';
import type { ForwardingStatusInfo } from '../../core/protocol.js';
import { parseBrokerUrl, redactUrl, type BrokerAddress } from '../../base/mqtt.js';
import { startForwarding, type ForwardingHandle, type ForwardTarget } from './index.js';
import { PeerBook } from './peers.js';
import { AgentKeys } from '../fleet/identity.js';
import type { DeskSide } from '../fleet/desk-side.js';
import type { RemoteConfigAgent } from '../fleet/agent-side.js';

/** Connection changes show at once; a stream of acknowledgements moves the queue figure at most this often. */
const PUSH_EVERY_MS = 250;

export class ForwardingController {
  readonly peers: PeerBook;
  /** Which machines' keys are recorded here (read again when deploy changes the file). */
  private readonly agentKeys: AgentKeys;
  private handle: ForwardingHandle | null = null;
  private commandLine: ForwardTarget | undefined;
  /** Restarts run one after the other, never two sets of clients at once. */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private pushTimer: NodeJS.Timeout | null = null;
  private lastPushed = '';

  constructor(
    private readonly engine: ForwardingHost,
    commandLine: ForwardTarget | undefined,
    private readonly push: (s: ForwardingStatusInfo) => void,
    private readonly fleetChanged: (agentId: string) => void = () => {},
  ) {
    this.commandLine = commandLine;
    this.peers = new PeerBook(engine.store.kv, () => this.changed());
    this.agentKeys = new AgentKeys(engine.dataDir);
  }

  /** `panoptes agent --forward`: this run's target (without its password), until settings are saved. */
  commandLineForward(): { url: string; agentId: string | null } | null {
    if (!this.commandLine) return null;
    let url: string;
    try {
      const a = parseBrokerUrl(this.commandLine.url);
      url = withUser(a);
    } catch {
      url = redactUrl(this.commandLine.url);
    }
    return { url, agentId: this.commandLine.agentId ?? null };
  }

  /** The password given on the command line for this broker and user, so saving the same target keeps it. */
  commandLinePassword(address: BrokerAddress): string | undefined {
    if (!this.commandLine) return undefined;
    try {
      const a = parseBrokerUrl(this.commandLine.url);
      return a.url === address.url && a.username === address.username ? a.password : undefined;
    } catch {
      return undefined;
    }
  }

  start(): Promise<void> {
    return this.restart();
  }

  /**
   * Stop what runs and start again from the config document. With `dropCommandLine` the `--forward` target of
   * this run gives way to the settings (the user has just saved what they want).
   */
  restart(opts: { dropCommandLine?: boolean } = {}): Promise<void> {
    const run = async () => {
      if (this.closed) return;
      if (opts.dropCommandLine) this.commandLine = undefined;
      const old = this.handle;
      this.handle = null;
      await old?.stop();
      if (this.closed) return;
      this.handle = await startForwarding(this.engine, { forward: this.commandLine, peers: this.peers, onChange: () => this.changed(), onFleetChange: (id) => this.fleetChanged(id) });
      this.changed();
    };
    const done = this.queue.then(run);
    this.queue = done.catch(() => {});
    return done;
  }

  /** The brokers' views of the agents' configurations (see engine/fleet/desk-side.ts). */
  desks(): DeskSide[] {
    return this.handle?.desks() ?? [];
  }

  /**
   * Forget a machine gone for good: its retained status and configuration are cleared on every broker this desktop
   * receives from (each within 10 s), and its entry leaves the list. Its key must be forgotten before (see DeskSide.clear).
   */
  async forgetMachine(agentId: string): Promise<{ cleared: string[]; notCleared: { broker: string; why: string }[] }> {
    const cleared: string[] = [];
    const notCleared: { broker: string; why: string }[] = [];
    for (const d of this.desks()) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([d.clear(agentId), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the broker did not acknowledge within 10 s')), 10_000)))]);
        cleared.push(redactUrl(d.broker));
      } catch (err) {
        notCleared.push({ broker: redactUrl(d.broker), why: (err as Error).message });
      } finally {
        clearTimeout(timer);
      }
    }
    this.peers.drop(agentId);
    return { cleared, notCleared };
  }

  /** This instance's remote configuration, when it is an agent managed from a desktop. */
  remoteConfig(): RemoteConfigAgent | null {
    return this.handle?.remoteConfig() ?? null;
  }

  /** A monitor's health (or something else the inventory tells) changed. */
  inventoryChanged(): void {
    this.handle?.inventoryChanged();
  }

  status(): ForwardingStatusInfo {
    const s = this.handle?.status();
    const f = s?.forward;
    return {
      forward: f ? { broker: f.broker, agentId: f.agentId, connected: f.connected, queued: f.backlog, inflight: f.inflight, lastError: f.lastError } : null,
      receivers: (s?.receivers ?? []).map((r) => ({ broker: r.broker, connected: r.connected, received: r.received, stored: r.stored, duplicates: r.duplicates, rejected: r.rejected, lastError: r.lastError })),
      embeddedBroker: s?.embeddedBroker ?? null,
      peers: this.peers.list().map((p) => ({ ...p, trust: this.agentKeys.get(p.agentId) ? ('verified' as const) : ('unverified' as const) })),
      problems: s?.problems ?? [],
    };
  }

  /** Something may have changed: push the status soon, once, and only if it differs from the last one pushed. */
  private changed(): void {
    if (this.closed || this.pushTimer) return;
    this.pushTimer = setTimeout(() => {
      this.pushTimer = null;
      if (this.closed) return;
      const status = this.status();
      const text = JSON.stringify(status);
      if (text === this.lastPushed) return;
      this.lastPushed = text;
      this.push(status);
    }, PUSH_EVERY_MS);
    this.pushTimer.unref?.();
  }

  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pushTimer) clearTimeout(this.pushTimer);
    this.pushTimer = null;
    await this.queue;
    const h = this.handle;
    this.handle = null;
    await h?.stop();
    this.peers.save();
  }
}

/** `mqtt://user@host:port`: the address with its user name and never a password. */
export function withUser(a: BrokerAddress): string {
  if (a.username === undefined) return a.url;
  const i = a.url.indexOf('://') + 3;
  return `${a.url.slice(0, i)}${encodeURIComponent(a.username)}@${a.url.slice(i)}`;
}
