// Desktop side of remote configuration: follows every agent's published configuration on one broker, and sends an
// agent a change (its whole monitors and rules, signed with this desktop's key, retained so an agent that is away
// gets it when it is back). A change is prepared from what the desktop knows of the agent: its published
// configuration, or the desktop's own change still waiting for an answer (a second edit while the agent is away
// builds on the first and replaces it on the broker).
import type { MqttClient } from 'mqtt';
import { clientOptions, endClient, mqttConnect,  mqttErrorText, type BrokerAddress, type TlsFiles } from '../../base/mqtt.js';
import type { Logger } from '../../core/log.js';
import type { FleetMachineConfig } from '../../core/protocol.js';
import { randomBytes } from 'node:crypto';
import { statusTopic } from '../forwarding/wire.js';
import type { AgentKeys, FleetIdentity } from './identity.js';
import {
  ALL_ANSWERS,
  ALL_CONFIG_SETS,
  ALL_CONFIG_STATES,
  askTopic,
  configSetTopic,
  configStateTopic,
  decodeAnswer,
  decodeConfigState,
  openChange,
  parseAnswerTopic,
  parseConfigTopic,
  publicKeyFromText,
  signAsk,
  signChange,
  type Answer,
  type AskMethod,
  type ConfigChange,
  type ConfigState,
} from './wire.js';

export interface DeskSideOptions {
  broker: BrokerAddress;
  tls?: TlsFiles | undefined;
  clientId: string;
  /**
   * This desktop's key, or null while it has none (nothing deployed from here yet: then no agent is paired with it
   * and nothing on the broker is its own). Asked again until there is one, so a first deploy needs no restart.
   */
  identity: () => FleetIdentity | null;
  /** The keys of the agents deployed from here (what they say must be signed with them). */
  agentKeys: AgentKeys;
  log: Logger;
  onChange?: ((agentId: string) => void) | undefined;
  /** A message in an agent's name was refused: kept in that machine's log of refusals (Settings → Machines). */
  onRefused?: ((agentId: string, what: string, why: string) => void) | undefined;
}

export type MachineConfig = FleetMachineConfig;

export class FleetConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FleetConflict';
  }
}

/** A question the agent did not answer in time. */
export class AskTimeout extends Error {
  constructor(message: string, readonly ignored: string | null) {
    super(message);
    this.name = 'AskTimeout';
  }
}

/** Complaints about messages that are not an agent's own are logged at most this often per agent. */
const COMPLAIN_EVERY_MS = 60_000;

interface Waiting {
  agentId: string;
  pairing: string;
  resolve: (a: { answer: Answer; verified: boolean }) => void;
  /** The last message on the answer topic that claimed to be this answer and was not signed by the agent. */
  ignored: string | null;
}

export class DeskSide {
  private client: MqttClient | null = null;
  private connected = false;
  private stopped = false;
  private readonly states = new Map<string, ConfigState>();
  /** Whether each state was verified with the agent's key (false: no key known for it when it came). */
  private readonly verified = new Map<string, boolean>();
  /** The last message that claimed to be an agent's and was not signed by it, per agent. */
  private readonly refusals = new Map<string, { at: string; message: string }>();
  private readonly complained = new Map<string, number>();
  private readonly waiting = new Map<string, Waiting>();
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
      client.subscribe({ [ALL_CONFIG_STATES]: { qos: 1 }, [ALL_CONFIG_SETS]: { qos: 1 }, [ALL_ANSWERS]: { qos: 1 } }, (err) => {
        if (err) this.o.log.warn(`subscribing to agents' configurations at ${this.o.broker.url} failed: ${mqttErrorText(err)}`);
      });
    });
    client.on('close', () => (this.connected = false));
    client.on('error', () => {
      /* the receiver on the same broker reports its problems */
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  private refused(agentId: string, what: string, message: string): void {
    this.refusals.set(agentId, { at: new Date().toISOString(), message });
    this.o.onRefused?.(agentId, what, message);
    const now = Date.now();
    if ((this.complained.get(agentId) ?? 0) + COMPLAIN_EVERY_MS <= now) {
      this.complained.set(agentId, now);
      this.o.log.warn(message);
    }
  }

  private onAnswer(agentId: string, payload: Buffer): void {
    const a = decodeAnswer(payload);
    const w = a ? this.waiting.get(a.id) : undefined;
    if (!a || !w || w.agentId !== agentId || a.agentId !== agentId) return;
    const checked = this.o.agentKeys.check(agentId, payload, 'answer');
    if (!checked.ok) {
      // Someone else answered in the agent's name: refused, and the question keeps waiting for the agent's own.
      w.ignored = checked.message;
      this.refused(agentId, 'answer', checked.message);
      this.o.onChange?.(agentId);
      return;
    }
    if (a.pairing !== w.pairing) return;
    this.waiting.delete(a.id);
    w.resolve({ answer: a, verified: checked.signed });
  }

  private onMessage(topic: string, payload: Buffer): void {
    const answerOf = parseAnswerTopic(topic);
    if (answerOf) return this.onAnswer(answerOf, payload);
    const where = parseConfigTopic(topic);
    if (!where) return;
    if (where.kind === 'state') {
      const empty = payload.length ? null : this.o.agentKeys.checkEmpty(where.agentId, 'configuration state');
      if (empty && !empty.ok) this.refused(where.agentId, 'empty configuration state', empty.message);
      else if (empty) {
        this.states.delete(where.agentId);
        this.verified.delete(where.agentId);
      } else {
        const checked = this.o.agentKeys.checkState(where.agentId, payload, 'configuration state');
        const s = checked.ok ? decodeConfigState(payload, where.agentId) : null;
        if (!checked.ok) this.refused(where.agentId, 'configuration state', checked.message);
        else if (s) {
          this.states.set(where.agentId, s);
          this.verified.set(where.agentId, checked.signed);
        }
      }
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

  /**
   * Forget a machine (Settings → Machines → Forget): what is known of it here goes, and its retained status and
   * configuration are cleared on this broker (empty retained messages, as its undeploy does). Its key must be
   * forgotten first, else this desktop's own receiver ignores the empty status.
   */
  async clear(agentId: string): Promise<void> {
    this.states.delete(agentId);
    this.verified.delete(agentId);
    this.sent.delete(agentId);
    this.refusals.delete(agentId);
    const client = this.client;
    if (!client || !this.connected) throw new Error('not connected to the broker');
    for (const topic of [statusTopic(agentId), configSetTopic(agentId), configStateTopic(agentId)]) await client.publishAsync(topic, '', { qos: 1, retain: true });
    this.o.onChange?.(agentId);
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
      paused: p?.paused ?? s.paused ?? false,
      pending: p ? { seq: p.seq, issuedAt: p.issuedAt } : null,
      last: s.last,
      verified: this.verified.get(agentId) === true,
      refused: this.refusals.get(agentId) ?? null,
    };
  }

  /**
   * Nothing is sent to an agent whose key is not recorded here: what it says cannot be told from what another broker
   * user publishes, so neither its configuration nor its answers could be trusted. Pairing it (an upgrade from here
   * reads its key) lifts this.
   */
  private mustBeVerified(agentId: string, what: string): void {
    if (this.o.agentKeys.get(agentId)) return;
    throw new Error(`${agentId} is unverified — not paired with this desktop: no key of ${agentId} is recorded here, so what it says cannot be told from what someone else on the broker publishes; nothing was ${what}. Pair it: if it was deployed from here before agents had keys, Upgrade it (Settings → Machines, or panoptes deploy USER@HOST --upgrade), which reads its key; an agent started by hand with --forward is paired by deploying it from here (panoptes deploy USER@HOST --broker URL --agent-id ${agentId})`);
  }

  /**
   * Ask an agent deployed from here a question ("Test now", its recent events, its monitors' health) and wait for
   * its answer, signed by it, for at most `timeoutMs` (the agent is told the same limit). Rejects with AskTimeout.
   */
  async ask(agentId: string, method: AskMethod, params: Record<string, unknown>, timeoutMs: number): Promise<{ answer: Answer; verified: boolean }> {
    const s = this.states.get(agentId);
    if (!s) throw new Error(`agent ${agentId} has not published its configuration on ${this.o.broker.url}`);
    const me = this.me();
    if (!me || s.controller !== me.identity.keyId) throw new Error(`agent ${agentId} answers another desktop (key ${s.controller}); deploy it from here to ask it`);
    this.mustBeVerified(agentId, 'asked');
    if (!this.client || !this.connected) throw new Error(`not connected to the broker ${this.o.broker.url}; try again when it is back`);
    const id = randomBytes(12).toString('base64url');
    const text = signAsk({ v: 1, kind: 'ask', agentId, pairing: s.pairing, id, method, params, issuedAt: new Date().toISOString(), timeoutMs }, me.identity.privateKey);
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<{ answer: Answer; verified: boolean }>((resolve, reject) => {
      const w: Waiting = { agentId, pairing: s.pairing, resolve, ignored: null };
      this.waiting.set(id, w);
      // A little longer than the agent's own limit, so its "did not finish in time" can still arrive.
      timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new AskTimeout(`${agentId} did not answer within ${Math.round(timeoutMs / 1000)} s`, w.ignored));
      }, timeoutMs + 2_000);
    });
    try {
      // Never retained: a question nobody waits for any more must not reach an agent that comes back later.
      await this.client.publishAsync(askTopic(agentId), text, { qos: 1 });
      return await answered;
    } finally {
      clearTimeout(timer);
      this.waiting.delete(id);
    }
  }

  /**
   * Change an agent's monitors and rules: `edit` gets them as the desktop last knew them and changes them in place.
   * With `ifRevision`, refused when that is no longer what the desktop knows (the agent changed, or another window
   * sent a change meanwhile). `paused` pauses or resumes all its monitors; otherwise a pause still waiting for the
   * agent is carried along (the broker keeps only the latest change).
   */
  async change(
    agentId: string,
    edit: (draft: { monitors: Record<string, unknown>[]; rules: Record<string, unknown>[] }) => void,
    ifRevision?: string,
    opts: { paused?: boolean } = {},
  ): Promise<MachineConfig> {
    const s = this.states.get(agentId);
    if (!s) throw new Error(`agent ${agentId} has not published its configuration on ${this.o.broker.url}`);
    const me = this.me();
    if (!me || s.controller !== me.identity.keyId) throw new Error(`agent ${agentId} takes changes from another desktop (key ${s.controller}); deploy it from here to manage it`);
    this.mustBeVerified(agentId, 'sent');
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
    const paused = opts.paused ?? p?.paused;
    if (paused !== undefined) change.paused = paused;
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
