// Agent side of remote configuration: takes changes of its monitors and local rules from its paired desktop over
// the broker, and says what it did with each. A change is applied only when it is signed by the paired desktop for
// this agent and pairing, newer than every change seen (no replays), prepared from the configuration in force (or
// superseding the desktop's own last change from the same base: a desktop that edits twice while the agent is away
// sends the whole configuration again, and only the latest is kept on the broker), and valid here. The outcome and
// the configuration as it now stands are published retained, so the desktop sees them whenever it connects.
import type { MqttClient } from 'mqtt';
import type { KeyObject } from 'node:crypto';
import { clientOptions, endClient, mqttConnect,  mqttErrorText, type BrokerAddress, type TlsFiles } from '../../base/mqtt.js';
import { revisionOf } from '../../core/config/config-store.js';
import { MONITOR_ID, monitorEntrySchema, type ConfigDocument, type MonitorEntry } from '../../core/config/schema.js';
import type { Logger } from '../../core/log.js';
import { ConfigInvalidError, parseMonitorConfig, secretFields } from '../../core/monitor-host.js';
import { validateRules } from '../../rules/index.js';
import type { ForwardingHost } from '../forwarding/host.js';
import { answerTopic, askTopic, ChangeRefused, configSetTopic, configStateTopic, keyIdOf, openChange, publicKeyFromText, signedJson, type ConfigChange, type ConfigState } from './wire.js';
import { AgentAsks } from './agent-asks.js';
import { StampClock } from './freshness.js';
import type { FleetIdentity } from './identity.js';

const KV_KEY = 'fleet:agent';

interface Saved {
  rev: number;
  /** Fingerprint of the monitors and rules at `rev`: a different one at start or after a local save is a new revision. */
  hash: string;
  seenSeq: number;
  /** The last change applied: a newer one from the same base may replace it. */
  applied: { seq: number; base: number; rev: number } | null;
  last: ConfigState['last'];
}

export interface AgentSideOptions {
  host: ForwardingHost;
  broker: BrokerAddress;
  tls?: TlsFiles | undefined;
  agentId: string;
  controller: { publicKey: string; pairing: string };
  /** This agent's own key: its configuration state and its answers are signed with it. */
  agentKey: FleetIdentity;
  log: Logger;
}

const fingerprint = (d: ConfigDocument) => revisionOf({ monitors: d.monitors, rules: d.rules });

export class RemoteConfigAgent {
  private client: MqttClient | null = null;
  private connected = false;
  private stopped = false;
  private readonly key: KeyObject;
  private saved: Saved;
  /** Messages are handled one at a time, in arrival order. */
  private queue: Promise<void> = Promise.resolve();
  /** Set while this class writes the configuration, so its own save is not counted as a local change. */
  private applying = false;
  private offConfig: () => void = () => {};
  private readonly asks: AgentAsks;
  /** Stamps what it publishes, so a state recorded earlier and published again is told from the newest. */
  private readonly clock: StampClock;

  constructor(private readonly o: AgentSideOptions) {
    this.key = publicKeyFromText(o.controller.publicKey);
    const kv = o.host.store.kv.get<Saved>(KV_KEY);
    this.saved = kv && typeof kv.rev === 'number' ? kv : { rev: 1, hash: fingerprint(o.host.config.current), seenSeq: 0, applied: null, last: null };
    this.localCheck(false);
    this.clock = new StampClock(o.host.store.kv, 'fleet:epoch:config', (m) => o.log.warn(m));
    this.asks = new AgentAsks({
      host: o.host,
      agentId: o.agentId,
      pairing: o.controller.pairing,
      desktopKey: this.key,
      agentKey: o.agentKey.privateKey,
      publish: (text) => {
        if (!this.stopped && this.connected) this.client?.publish(answerTopic(o.agentId), text, { qos: 1 });
      },
      log: o.log,
    });
  }

  start(): void {
    this.clock.newEpoch();
    this.offConfig = this.o.host.config.onChanged(() => {
      if (!this.applying) this.localCheck(true);
    });
    const client = mqttConnect(this.o.broker.url, clientOptions(this.o.broker, this.o.tls, { clientId: `panoptes-cfg-${this.o.agentId}`, clean: true, keepalive: 30 }));
    this.client = client;
    client.on('connect', () => {
      this.connected = true;
      // Subscribed on every connection: the broker then hands over the retained latest change, which is how an agent
      // that was away takes in what was decided meanwhile.
      client.subscribe({ [configSetTopic(this.o.agentId)]: { qos: 1 }, [askTopic(this.o.agentId)]: { qos: 1 } }, (err) => {
        if (err) this.o.log.warn(`could not subscribe to configuration changes: ${mqttErrorText(err)}`);
      });
      this.publish();
    });
    client.on('close', () => (this.connected = false));
    client.on('error', () => {
      /* the forwarder reports the broker's problems */
    });
    client.on('message', (topic, payload) => {
      if (topic === askTopic(this.o.agentId)) {
        if (!this.stopped) this.asks.handle(payload);
        return;
      }
      this.queue = this.queue.then(() => this.handle(payload)).catch((err) => this.o.log.error(`a configuration change failed: ${(err as Error).message}`));
    });
  }

  /** The state this agent publishes (also for tests and the inventory). */
  state(): ConfigState {
    const d = this.o.host.config.current;
    return {
      agentId: this.o.agentId,
      pairing: this.o.controller.pairing,
      controller: keyIdOf(this.o.controller.publicKey),
      rev: this.saved.rev,
      seenSeq: this.saved.seenSeq,
      monitors: d.monitors as Record<string, unknown>[],
      rules: d.rules as Record<string, unknown>[],
      paused: this.o.host.paused ?? false,
      last: this.saved.last,
      at: new Date().toISOString(),
    };
  }

  /** The configuration changed here (the agent's own UI, the CLI, a hand edit): a new revision. */
  private localCheck(publish: boolean): void {
    const hash = fingerprint(this.o.host.config.current);
    if (hash === this.saved.hash) return;
    this.saved = { ...this.saved, rev: this.saved.rev + 1, hash };
    this.save();
    if (publish) this.publish();
  }

  /** All monitors were paused or resumed here (the tray, this agent's own UI): the desktop's view says so. */
  pausedChanged(): void {
    if (!this.applying) this.publish();
  }

  private save(): void {
    try {
      this.o.host.store.kv.set(KV_KEY, this.saved);
    } catch (err) {
      this.o.log.warn(`could not save the remote configuration state: ${(err as Error).message}`);
    }
  }

  private publish(): void {
    if (this.stopped || !this.connected || !this.client) return;
    // Signed by this agent: the desktop takes no state for it that a broker user made up.
    this.client.publish(configStateTopic(this.o.agentId), signedJson({ ...this.state(), stamp: this.clock.next() }, this.o.agentKey.privateKey), { qos: 1, retain: true });
  }

  private refuse(seq: number | null, reason: string): void {
    this.o.log.warn(`refused a configuration change${seq !== null ? ` (${seq})` : ''}: ${reason}`);
    this.saved = { ...this.saved, last: { seq, outcome: 'refused', reason, at: new Date().toISOString(), rev: this.saved.rev } };
    this.save();
    this.publish();
  }

  private async handle(payload: Buffer): Promise<void> {
    if (this.stopped || !payload.length) return; // an emptied retained change: nothing to do
    let change: ConfigChange;
    try {
      change = openChange(payload, this.key);
    } catch (err) {
      if (err instanceof ChangeRefused) return this.refuse(null, err.message);
      throw err;
    }
    if (change.agentId !== this.o.agentId) return this.refuse(null, `it was signed for agent ${change.agentId}, not for ${this.o.agentId}`);
    if (change.pairing !== this.o.controller.pairing) return this.refuse(null, 'it was signed for an earlier deployment of this agent');
    // The retained latest change comes again on every reconnect: already answered, nothing to say.
    if (change.seq === this.saved.seenSeq) return;
    if (change.seq < this.saved.seenSeq) return this.refuse(change.seq, `a replay: change ${change.seq} is older than change ${this.saved.seenSeq}, the latest this agent has seen`);
    this.saved = { ...this.saved, seenSeq: change.seq };
    this.save();
    this.localCheck(false);
    const { rev, applied } = this.saved;
    const supersedes = applied !== null && change.base === applied.base && rev === applied.rev;
    if (change.base !== rev && !supersedes) {
      return this.refuse(change.seq, `the agent's configuration changed since this change was prepared (revision ${change.base}, now ${rev}); nothing was changed — edit again from the current configuration`);
    }
    const problem = this.problemOf(change);
    if (problem) return this.refuse(change.seq, problem);
    const before = this.o.host.config.current;
    const removed = before.monitors.filter((m) => !change.monitors.some((n) => n.id === m.id)).map((m) => m.id);
    this.applying = true;
    let after: ConfigDocument;
    try {
      after = await this.o.host.config.update((d) => {
        d.monitors = change.monitors as MonitorEntry[];
        d.rules = change.rules as typeof d.rules;
      });
    } catch (err) {
      this.applying = false;
      return this.refuse(change.seq, `could not save it: ${(err as Error).message}`);
    }
    try {
      for (const id of removed) {
        this.o.host.secrets.delete(id);
        this.o.host.store.monitorState.clear(id);
      }
      this.o.host.configChanged(before, after);
      // Pausing is the engine's own switch (kept across restarts there), not a field of each monitor: every monitor
      // keeps its own enabled flag, so resuming brings back exactly the ones that ran before.
      if (change.paused !== undefined && change.paused !== (this.o.host.paused ?? false)) {
        if (!this.o.host.setPaused) return this.refuse(change.seq, 'this agent cannot pause its monitors (upgrade it)');
        await this.o.host.setPaused(change.paused);
      }
    } finally {
      this.applying = false;
    }
    const newRev = rev + 1;
    this.saved = { ...this.saved, rev: newRev, hash: fingerprint(after), applied: { seq: change.seq, base: change.base, rev: newRev }, last: { seq: change.seq, outcome: 'applied', reason: null, at: new Date().toISOString(), rev: newRev } };
    this.save();
    this.o.log.info(`applied configuration change ${change.seq} from the desktop (revision ${newRev}: ${after.monitors.length} monitors, ${after.rules.length} rules${this.o.host.paused ? ', all paused' : ''})`);
    this.publish();
  }

  /** Why this agent cannot run what the change asks for, or null. Every check is the one a local save makes. */
  private problemOf(change: ConfigChange): string | null {
    const ids = new Set<string>();
    for (const [i, raw] of change.monitors.entries()) {
      const r = monitorEntrySchema.safeParse(raw);
      if (!r.success) return `monitors[${i}]: ${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`;
      const m = r.data;
      if (!MONITOR_ID.test(m.id)) return `monitors[${i}]: the id "${m.id}" is malformed`;
      if (ids.has(m.id)) return `monitors[${i}]: the id "${m.id}" is used twice`;
      ids.add(m.id);
      const def = this.o.host.definitions.get(m.type);
      if (!def) return `monitor "${m.name}": this agent has no monitor type "${m.type}" (upgrade it)`;
      const secretNames = secretFields(def);
      const sent = secretNames.filter((k) => m.config[k] !== undefined && m.config[k] !== '');
      if (sent.length) return `monitor "${m.name}": ${sent.join(', ')} cannot be sent over the broker; set ${sent.length > 1 ? 'them' : 'it'} on that machine`;
      try {
        parseMonitorConfig(def, { ...m.config, ...this.o.host.secrets.get(m.id) });
      } catch (err) {
        if (err instanceof ConfigInvalidError) return `monitor "${m.name}": ${err.message}`;
        throw err;
      }
    }
    const { errors } = validateRules(change.rules, this.o.host.actionKinds);
    if (errors.length) return `rules${errors[0]!.path.slice(1)}: ${errors[0]!.message}`;
    return null;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.offConfig();
    await this.queue;
    const c = this.client;
    this.client = null;
    if (c) await endClient(c, 1_000);
  }
}
