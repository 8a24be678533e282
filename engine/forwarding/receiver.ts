// Desktop side: takes in what agents forward. A persistent session (fixed client id, clean session off, QoS 1)
// makes the broker keep events for us while we are away. Each event is acknowledged only after it is durably
// stored, so a crash here re-delivers rather than loses; the store drops a re-delivered id. Agent status
// messages become `agent.online` / `agent.offline` events of Panoptes' own, so rules can react to them.
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { NewEvent, PanoptesEvent, StoredEvent } from '../../core/event.js';
import type { KvTable } from '../../core/store/misc-stores.js';
import type { Logger } from '../../core/log.js';
import { clientOptions, endClient, mqttConnect,  mqttErrorText, type BrokerAddress, type TlsFiles } from '../../base/mqtt.js';
import { ALL_EVENTS, ALL_STATUS, decodeEvent, decodeStatus, parseTopic, type AgentStatus } from './wire.js';

const STATES_KEY = 'forwarding:agentStates';
/** Passed to mqtt.js' message callback to keep it from sending the PUBACK itself (it then just moves on). */
const NOT_NOW = new Error('acknowledged later, or not at all');
/** Say the same complaint about bad messages at most this often per agent. */
const COMPLAIN_EVERY_MS = 60_000;

export interface ReceiverOptions {
  broker: BrokerAddress;
  tls?: TlsFiles | undefined;
  clientId: string;
  /** This instance's own agent id: its own forwarded events are not taken in again. */
  selfAgentId: string | null;
  log: Logger;
  kv: KvTable;
  ingest(event: PanoptesEvent): Promise<StoredEvent | null>;
  emit(event: NewEvent): Promise<unknown>;
  /** Who was heard from (for the settings' status of machines). */
  peers?: { heard(agentId: string, hostname: string): void; status(s: AgentStatus): void; forget?(agentId: string): void; refused?(agentId: string, what: string, why: string): void } | undefined;
  /** Connected, disconnected or a new error: the status shown to the user changed. */
  onChange?: (() => void) | undefined;
  /**
   * How long an agent's lost connection must last before it is announced as `agent.offline` (default 20 s). A broker
   * restart or a network blip drops every connection for a moment; the machine list shows it at once, but rules and
   * notifications only hear of it when the agent does not come back. A clean stop is announced at once.
   */
  offlineGraceMs?: number | undefined;
  /**
   * Is this status from the agent it names? (Agents deployed from here sign theirs; see engine/fleet/.) A status
   * that is not is counted as rejected and said in `lastError`, and changes nothing.
   */
  checkStatus?: ((agentId: string, payload: Buffer) => { ok: true } | { ok: false; message: string }) | undefined;
  /** May an empty (cleared) retained status take this agent off the list? */
  checkEmptyStatus?: ((agentId: string) => { ok: true } | { ok: false; message: string }) | undefined;
  /** Is this forwarded event from the agent it names? (Agents deployed from here seal theirs.) Refused like a status. */
  checkEvent?: ((agentId: string, payload: Buffer) => { ok: true; sealedAt?: number | null } | { ok: false; message: string }) | undefined;
  /**
   * Events of this source received before this time (ms) may have been deleted by retention, and the store no longer
   * knows their ids (engine/retention.ts): a sealed event from before it could be a recorded copy, and is refused.
   */
  forgottenBefore?: ((source: string) => number) | undefined;
}

/**
 * A sealed event must be sealed this long after the retention mark to be taken: the agent's clock may run ahead of
 * this one (then its seal's time is later than the event's receipt here), by less than this.
 */
const CLOCK_SLACK_MS = 86_400_000;

const OFFLINE_GRACE_MS = 20_000;

export interface ReceiverStatus {
  broker: string;
  connected: boolean;
  received: number;
  stored: number;
  duplicates: number;
  rejected: number;
  lastError: string | null;
}

export class Receiver {
  private client: MqttClient | null = null;
  private connected = false;
  private stopped = false;
  private lastError: string | null = null;
  /** Bumped on every (re)connect: an ack held from an earlier connection must not go out on a later one. */
  private connection = 0;
  private acks: Promise<void> = Promise.resolve();
  private readonly counts = { received: 0, stored: 0, duplicates: 0, rejected: 0 };
  private readonly complained = new Map<string, number>();
  /** Lost connections waiting out the grace period, per agent. */
  private readonly pendingOffline = new Map<string, { timer: ReturnType<typeof setTimeout>; status: AgentStatus }>();

  constructor(private readonly o: ReceiverOptions) {}

  start(): void {
    const client = mqttConnect(
      this.o.broker.url,
      clientOptions(this.o.broker, this.o.tls, { clientId: this.o.clientId, clean: false, keepalive: 30 }),
    );
    this.client = client;
    client.handleMessage = (packet, done) => this.handle(client, packet, done);
    client.on('connect', (connack) => {
      this.connection++;
      this.connected = true;
      this.lastError = null;
      this.o.log.info(`receiving forwarded events from ${this.o.broker.url}${connack.sessionPresent ? ' (session resumed)' : ''}`);
      this.o.onChange?.();
      if (!connack.sessionPresent) {
        client.subscribe({ [ALL_EVENTS]: { qos: 1 }, [ALL_STATUS]: { qos: 1 } }, (err) => {
          if (err) this.o.log.warn(`subscribing at ${this.o.broker.url} failed: ${mqttErrorText(err)}`);
        });
      }
    });
    client.on('close', () => {
      if (this.connected && !this.stopped) this.o.log.warn(`lost the broker ${this.o.broker.url}; reconnecting`);
      const was = this.connected;
      this.connected = false;
      if (was) {
        // Shown until the next attempt says more (refused, unreachable…).
        this.lastError = 'the connection to the broker was lost; reconnecting';
        this.o.onChange?.();
      }
    });
    client.on('error', (err) => {
      const msg = mqttErrorText(err);
      if (msg !== this.lastError) {
        this.o.log.warn(`receiving from ${this.o.broker.url}: ${msg}`);
        this.lastError = msg;
        this.o.onChange?.();
      }
    });
  }

  status(): ReceiverStatus {
    return { broker: this.o.broker.url, connected: this.connected, ...this.counts, lastError: this.lastError };
  }

  /**
   * mqtt.js hands over one message at a time and sends its PUBACK before it looks at the next one, so waiting for
   * a durable write per message would cost one disk flush each (about 170 events/s here). Instead an event goes to
   * the store's batched writer and mqtt.js moves on at once; its PUBACK is held back and sent by us, in arrival
   * order, when the batch holding it has committed. Acks held across a reconnect are dropped: the broker resends
   * those messages, and the store drops ids it already has. (Relies on mqtt.js' `_sendPacket`; the version is pinned.)
   */
  private handle(client: MqttClient, packet: IPublishPacket, done: (err?: Error) => void): void {
    if (this.stopped) return done(NOT_NOW);
    const where = parseTopic(packet.topic);
    if (!where || where.agentId === this.o.selfAgentId) return done();
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (where.kind === 'status' && !payload.length) {
      // An emptied retained status: the machine was undeployed, it leaves the list — unless it is an agent whose key
      // this desktop holds (its own undeploy forgets the key first): then anyone on the broker may have sent it.
      const checked = this.o.checkEmptyStatus?.(where.agentId);
      if (checked && !checked.ok) {
        this.refuse(where.agentId, 'empty status', checked.message);
        return done();
      }
      this.o.peers?.forget?.(where.agentId);
      return done();
    }
    if (where.kind === 'status') {
      const checked = this.o.checkStatus?.(where.agentId, payload);
      if (checked && !checked.ok) {
        this.refuse(where.agentId, 'status', checked.message);
        return done();
      }
      // Rare: handled one at a time, acknowledged after the status event is stored.
      this.onStatus(decodeStatus(payload, where.agentId)).then(
        () => done(),
        (err) => {
          this.o.log.warn(`could not record the status of agent ${where.agentId}: ${(err as Error).message}`);
          done(NOT_NOW);
        },
      );
      return;
    }
    this.counts.received++;
    const sealed = this.o.checkEvent?.(where.agentId, payload);
    if (sealed && !sealed.ok) {
      // Acknowledged and dropped: the broker must not hand it to us again.
      this.refuse(where.agentId, 'event', sealed.message);
      return done();
    }
    let event: PanoptesEvent;
    try {
      event = decodeEvent(payload, where.agentId);
    } catch (err) {
      // A message that can never be stored is acknowledged and dropped (else the broker would resend it forever).
      this.counts.rejected++;
      this.complain(where.agentId, `dropped a message from agent ${where.agentId}: ${(err as Error).message}`);
      return done();
    }
    const sealedAt = sealed?.ok ? sealed.sealedAt : null;
    if (sealedAt !== null && sealedAt !== undefined && this.o.forgottenBefore) {
      const mark = this.o.forgottenBefore(event.source);
      if (mark > 0 && sealedAt < mark + CLOCK_SLACK_MS) {
        this.refuse(
          where.agentId,
          'event',
          `an event forwarded as ${where.agentId}'s was refused: it was sealed ${new Date(sealedAt).toISOString()}, before what retention deleted here (events of ${event.source} received before ${new Date(mark).toISOString()}, with a day's slack for the clocks), so it cannot be told from a recorded copy published again by someone on the broker — or the broker held it that long`,
        );
        return done();
      }
    }
    this.o.peers?.heard(where.agentId, event.origin?.hostname ?? '');
    const stored = this.o.ingest(event);
    if (packet.qos === 0) {
      stored.then((e) => this.count(e), (err) => this.o.log.error(`could not store a forwarded event: ${(err as Error).message}`));
      return done();
    }
    const connection = this.connection;
    const messageId = packet.messageId;
    this.acks = this.acks
      .then(() => stored)
      .then(
        (e) => {
          this.count(e);
          if (connection === this.connection && client.connected && messageId !== undefined) {
            (client as unknown as { _sendPacket(p: object): void })._sendPacket({ cmd: 'puback', messageId });
          }
        },
        (err) => {
          // Not acknowledged: drop the connection so the broker delivers it (and what follows) again.
          this.o.log.error(`could not store a forwarded event, it will be delivered again: ${(err as Error).message}`);
          if (connection === this.connection) client.stream?.destroy();
        },
      );
    done(NOT_NOW);
  }

  /** A message in an agent's name that is not its own: counted, said, and kept in that machine's log of refusals. */
  private refuse(agentId: string, what: string, why: string): void {
    this.counts.rejected++;
    this.lastError = why;
    this.complain(agentId, why);
    this.o.peers?.refused?.(agentId, what, why);
    this.o.onChange?.();
  }

  private count(e: unknown): void {
    if (e) this.counts.stored++;
    else this.counts.duplicates++;
  }

  private async onStatus(status: AgentStatus | null): Promise<void> {
    if (!status) return;
    this.o.peers?.status(status);
    const pending = this.pendingOffline.get(status.agentId);
    if (pending !== undefined) {
      clearTimeout(pending.timer);
      this.pendingOffline.delete(status.agentId);
    }
    const grace = this.o.offlineGraceMs ?? OFFLINE_GRACE_MS;
    if (status.state === 'offline' && status.reason === 'connection lost' && grace > 0) {
      const timer = setTimeout(() => {
        this.pendingOffline.delete(status.agentId);
        if (this.stopped) return;
        void this.announceOffline(status);
      }, grace);
      timer.unref?.();
      this.pendingOffline.set(status.agentId, { timer, status });
      return;
    }
    await this.announce(status);
  }

  /** A lost connection that outlasted its grace (or the receiver): announced, a failure only logged. */
  private announceOffline(status: AgentStatus): Promise<void> {
    return this.announce(status).catch((err) => this.o.log.warn(`could not record that agent ${status.agentId} went offline: ${(err as Error).message}`));
  }

  /** An agent's status as an event for rules, when it differs from the last one announced. */
  private async announce(status: AgentStatus): Promise<void> {
    const states = this.o.kv.get<Record<string, string>>(STATES_KEY) ?? {};
    if (states[status.agentId] === status.state) return;
    const name = status.agentId;
    const online = status.state === 'online';
    await this.o.emit({
      type: online ? 'agent.online' : 'agent.offline',
      title: online ? `Agent ${name} is online` : `Agent ${name} went offline`,
      body: online ? `${name}${status.hostname ? ` (${status.hostname})` : ''} is forwarding events again.` : `${name}${status.hostname ? ` (${status.hostname})` : ''} is offline${status.reason ? `: ${status.reason}` : ''}.`,
      fields: { agentId: status.agentId, hostname: status.hostname, broker: this.o.broker.url, reason: status.reason ?? null, at: status.at },
      tags: ['agent'],
    });
    // Remembered after the event is stored, so a crash in between announces the change again rather than never.
    this.o.kv.set(STATES_KEY, { ...(this.o.kv.get<Record<string, string>>(STATES_KEY) ?? {}), [status.agentId]: status.state });
  }

  private complain(agentId: string, message: string): void {
    const now = Date.now();
    if ((this.complained.get(agentId) ?? 0) + COMPLAIN_EVERY_MS > now) return;
    this.complained.set(agentId, now);
    this.o.log.warn(message);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Stopping while an agent's connection is lost: what is known now is that it is gone, so say so (never lose an
    // offline because the grace period had not run out).
    const pending = [...this.pendingOffline.values()];
    this.pendingOffline.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      await this.announceOffline(p.status);
    }
    const c = this.client;
    this.client = null;
    if (c) {
      // Let held acks of events already being written go out before saying goodbye.
      await Promise.race([this.acks, new Promise((r) => setTimeout(r, 1_000))]);
      await endClient(c, 1_000);
    }
  }
}
