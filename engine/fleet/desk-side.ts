// Desktop side of remote configuration: follows every agent's published configuration on one broker, and sends an
// agent a change (its whole monitors and rules, signed with this desktop's key, retained so an agent that is away
// gets it when it is back). A change is prepared from what the desktop knows of the agent: its published
// configuration, or the desktop's own change still waiting for an answer (a second edit while the agent is away
// builds on the first and replaces it on the broker).
import type { MqttClient } from 'mqtt';
import { clientOptions, endClient, mqttConnect,  mqttErrorText, type BrokerAddress, type TlsFiles } from '../../base/mqtt.js';
import type { Logger } from '../../core/log.js';
import type { FleetMachineConfig } from '../../core/protocol.js';
import type { FleetIdentity } from './identity.js';
import { ALL_CONFIG_SETS, ALL_CONFIG_STATES, configSetTopic, decodeConfigState, openChange, parseConfigTopic, publicKeyFromText, signChange, type ConfigChange, type ConfigState } from './wire.js';

export interface DeskSideOptions {
  broker: BrokerAddress;
  tls?: TlsFiles | undefined;
  clientId: string;
  /**
   * This desktop's key, or null while it has none (nothing deployed from here yet: then no agent is paired with it
   * and nothing on the broker is its own). Asked again until there is one, so a first deploy needs no restart.
   */
  identity: () => FleetIdentity | null;
  log: Logger;
  onChange?: ((agentId: string) => void) | undefined;
}

export type MachineConfig = FleetMachineConfig;

export class FleetConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FleetConflict';
  }
}

export class DeskSide {
  private client: MqttClient | null = null;
  private connected = false;
  private stopped = false;
  private readonly states = new Map<string, ConfigState>();
  /** This desktop's last change per agent, as the broker keeps it (retained) or as just sent. */
  private readonly sent = new Map<string, ConfigChange>();
  private known: { identity: FleetIdentity; publicKey: ReturnType<typeof publicKeyFromText> } | null = null;

  constructor(private readonly o: DeskSideOptions) {}

  private me(): { identity: FleetIdentity; publicKey: ReturnType<typeof publicKeyFromText> } | null {
    if (this.known) return this.known;
    const identity = this.o.identity();
    if (identity) this.known = { identity, publicKey: publicKeyFromText(identity.publicKey) };
    return this.known;
  }

  get broker(): string {
    return this.o.broker.url;
  }

  start(): void {
    const client = mqttConnect(this.o.broker.url, clientOptions(this.o.broker, this.o.tls, { clientId: this.o.clientId, clean: true, keepalive: 30 }));
    this.client = client;
    client.on('connect', () => {
      this.connected = true;
      client.subscribe({ [ALL_CONFIG_STATES]: { qos: 1 }, [ALL_CONFIG_SETS]: { qos: 1 } }, (err) => {
        if (err) this.o.log.warn(`subscribing to agents' configurations at ${this.o.broker.url} failed: ${mqttErrorText(err)}`);
      });
    });
    client.on('close', () => (this.connected = false));
    client.on('error', () => {
      /* the receiver on the same broker reports its problems */
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  private onMessage(topic: string, payload: Buffer): void {
    const where = parseConfigTopic(topic);
    if (!where) return;
    if (where.kind === 'state') {
      const s = decodeConfigState(payload, where.agentId);
      if (s) this.states.set(where.agentId, s);
      else this.states.delete(where.agentId);
    } else {
      // Only this desktop's own changes count as pending; anything else on that topic is someone else's business.
      if (!payload.length) this.sent.delete(where.agentId);
      else {
        const me = this.me();
        try {
          const c = me ? openChange(payload, me.publicKey) : null;
          const known = this.sent.get(where.agentId);
          if (c && c.agentId === where.agentId && (!known || c.seq >= known.seq)) this.sent.set(where.agentId, c);
        } catch {
          /* not ours */
        }
      }
    }
    this.o.onChange?.(where.agentId);
  }

  agents(): string[] {
    return [...this.states.keys()].sort();
  }

  knows(agentId: string): boolean {
    return this.states.has(agentId);
  }

  /** The change waiting for an answer: sent, for the agent's current pairing, with a number it has not seen. */
  private outstanding(s: ConfigState): ConfigChange | null {
    const c = this.sent.get(s.agentId);
    return c && c.pairing === s.pairing && c.seq > s.seenSeq ? c : null;
  }

  view(agentId: string): MachineConfig | null {
    const s = this.states.get(agentId);
    if (!s) return null;
    const p = this.outstanding(s);
    return {
      agentId,
      revision: `${s.rev}.${p?.seq ?? 0}`,
      agentRevision: s.rev,
      paired: s.controller === this.me()?.identity.keyId,
      monitors: (p?.monitors ?? s.monitors) as Record<string, unknown>[],
      rules: (p?.rules ?? s.rules) as Record<string, unknown>[],
      pending: p ? { seq: p.seq, issuedAt: p.issuedAt } : null,
      last: s.last,
    };
  }

  /**
   * Change an agent's monitors and rules: `edit` gets them as the desktop last knew them and changes them in place.
   * With `ifRevision`, refused when that is no longer what the desktop knows (the agent changed, or another window
   * sent a change meanwhile).
   */
  async change(agentId: string, edit: (draft: { monitors: Record<string, unknown>[]; rules: Record<string, unknown>[] }) => void, ifRevision?: string): Promise<MachineConfig> {
    const s = this.states.get(agentId);
    if (!s) throw new Error(`agent ${agentId} has not published its configuration on ${this.o.broker.url}`);
    const me = this.me();
    if (!me || s.controller !== me.identity.keyId) throw new Error(`agent ${agentId} takes changes from another desktop (key ${s.controller}); deploy it from here to manage it`);
    if (!this.client || !this.connected) throw new Error(`not connected to the broker ${this.o.broker.url}; try again when it is back`);
    const view = this.view(agentId)!;
    if (ifRevision !== undefined && ifRevision !== view.revision) {
      throw new FleetConflict(`the configuration of ${agentId} changed since this change was prepared (revision ${ifRevision}, now ${view.revision}); nothing was sent — start again from its current configuration`);
    }
    const p = this.outstanding(s);
    const draft = structuredClone({ monitors: view.monitors, rules: view.rules });
    edit(draft);
    const change: ConfigChange = {
      v: 1,
      agentId,
      pairing: s.pairing,
      seq: Math.max(s.seenSeq, this.sent.get(agentId)?.seq ?? 0) + 1,
      base: p ? p.base : s.rev,
      issuedAt: new Date().toISOString(),
      monitors: draft.monitors as ConfigChange['monitors'],
      rules: draft.rules as ConfigChange['rules'],
    };
    await this.client.publishAsync(configSetTopic(agentId), signChange(change, me.identity.privateKey), { qos: 1, retain: true });
    this.sent.set(agentId, change);
    this.o.onChange?.(agentId);
    return this.view(agentId)!;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const c = this.client;
    this.client = null;
    if (c) await endClient(c, 1_000);
  }
}
