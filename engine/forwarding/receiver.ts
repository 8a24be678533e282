// Desktop side: takes in what agents forward. A persistent session (fixed client id, clean session off, QoS 1)
// makes the broker keep events for us while we are away. Each event is acknowledged only after it is durably
// stored, so a crash here re-delivers rather than loses; the store drops a re-delivered id. Agent status
// messages become `agent.online` / `agent.offline` events of Panoptes' own, so rules can react to them.
import { connect, type IPublishPacket, type MqttClient } from 'mqtt';
import type { NewEvent, PanoptesEvent, StoredEvent } from '../../core/event.js';
import type { KvTable } from '../../core/store/misc-stores.js';
import type { Logger } from '../../core/log.js';
import { clientOptions, endClient, mqttErrorText, type BrokerAddress, type TlsFiles } from '../../monitors/mqtt/connection.js';
import { ALL_EVENTS, ALL_STATUS, decodeEvent, decodeStatus, parseTopic, type AgentStatus } from './wire.js';

const STATES_KEY = 'forwarding:agentStates';
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
}

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
  private readonly counts = { received: 0, stored: 0, duplicates: 0, rejected: 0 };
  private readonly complained = new Map<string, number>();

  constructor(private readonly o: ReceiverOptions) {}

  start(): void {
    const client = connect(
      this.o.broker.url,
      clientOptions(this.o.broker, this.o.tls, { clientId: this.o.clientId, clean: false, keepalive: 30 }),
    );
    this.client = client;
    client.handleMessage = (packet, done) => {
      this.onMessage(packet).then(
        () => done(),
        // Not acknowledged: the connection is dropped and the broker delivers the message again later.
        (err) => {
          this.o.log.error(`could not store a forwarded event, it will be delivered again: ${(err as Error).message}`);
          done(err as Error);
        },
      );
    };
    client.on('connect', (connack) => {
      this.connected = true;
      this.lastError = null;
      this.o.log.info(`receiving forwarded events from ${this.o.broker.url}${connack.sessionPresent ? ' (session resumed)' : ''}`);
      if (!connack.sessionPresent) {
        client.subscribe({ [ALL_EVENTS]: { qos: 1 }, [ALL_STATUS]: { qos: 1 } }, (err) => {
          if (err) this.o.log.warn(`subscribing at ${this.o.broker.url} failed: ${mqttErrorText(err)}`);
        });
      }
    });
    client.on('close', () => {
      if (this.connected && !this.stopped) this.o.log.warn(`lost the broker ${this.o.broker.url}; reconnecting`);
      this.connected = false;
    });
    client.on('error', (err) => {
      const msg = mqttErrorText(err);
      if (msg !== this.lastError) this.o.log.warn(`receiving from ${this.o.broker.url}: ${msg}`);
      this.lastError = msg;
    });
  }

  status(): ReceiverStatus {
    return { broker: this.o.broker.url, connected: this.connected, ...this.counts, lastError: this.lastError };
  }

  private async onMessage(packet: IPublishPacket): Promise<void> {
    if (this.stopped) throw new Error('receiver stopped');
    const where = parseTopic(packet.topic);
    if (!where || where.agentId === this.o.selfAgentId) return;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (where.kind === 'status') return this.onStatus(decodeStatus(payload, where.agentId));
    this.counts.received++;
    let event: PanoptesEvent;
    try {
      event = decodeEvent(payload, where.agentId);
    } catch (err) {
      // A message that can never be stored is acknowledged and dropped (else the broker would resend it forever).
      this.counts.rejected++;
      this.complain(where.agentId, `dropped a message from agent ${where.agentId}: ${(err as Error).message}`);
      return;
    }
    const stored = await this.o.ingest(event);
    if (stored) this.counts.stored++;
    else this.counts.duplicates++;
  }

  private async onStatus(status: AgentStatus | null): Promise<void> {
    if (!status) return;
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
    const c = this.client;
    this.client = null;
    if (c) await endClient(c, 1_000);
  }
}
