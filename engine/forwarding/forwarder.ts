// Agent side: a cursor consumer over the event log that publishes each event to the broker with QoS 1. The log
// itself is the outbox: events wait there while the broker is unreachable, and the cursor moves past an event
// only once the broker has acknowledged it (PUBACK) and everything before it. A crash or an outage therefore
// loses nothing; it can only make the agent publish an event again, which the receiver drops by its id.
import type { MqttClient } from 'mqtt';
import type { StoredEvent } from '../../core/event.js';
import type { Store } from '../../core/store/index.js';
import type { Logger } from '../../core/log.js';
import { clientOptions, endClient, mqttConnect,  mqttErrorText, type BrokerAddress, type TlsFiles } from '../../base/mqtt.js';
import type { EventFilter } from './filter.js';
import os from 'node:os';
import { MAX_MESSAGE_BYTES, encodeEvent, encodeStatus, eventsTopic, localOrigin, statusTopic, type AgentInventory, type AgentStatus } from './wire.js';

export const FORWARD_CURSOR = 'forward:mqtt';
/** Publishes awaiting their PUBACK at once: enough to keep a link busy, bounded so memory is. */
const WINDOW = 200;
const READ_BATCH = 200;
/** Another process (a CLI import, a test) may append to the log: look for such events this often when idle. */
const POLL_MS = 1_000;
/** Coalesce cursor writes: at most one per this many ms during a stream (a crash re-sends at most that much). */
const SAVE_EVERY_MS = 100;
/** The online status (with the inventory: monitors' health, queue, last event) is published again this often. */
export const INVENTORY_EVERY_MS = 30_000;
const STARTED_AT = new Date().toISOString();

export interface ForwarderOptions {
  store: Store;
  log: Logger;
  agentId: string;
  broker: BrokerAddress;
  tls?: TlsFiles | undefined;
  filter: EventFilter;
  keepaliveSeconds?: number | undefined;
  version?: string | undefined;
  /** What the agent tells about itself in its retained status (monitors, last event…), asked at each publish. */
  inventory?: (() => AgentInventory) | undefined;
  /** Subscribe to "new events stored" notifications; returns the unsubscribe function. */
  onStored: (listener: () => void) => () => void;
  /** The status shown to the user may have changed (connection, error, queue length). */
  onChange?: (() => void) | undefined;
  /**
   * An agent managed from a desktop signs its status with its own key (see engine/fleet/wire.ts), and stamps it: a
   * `will` is made as a connection starts and said by the broker when it dies (after every `online` of that
   * connection), a `goodbye` is said last (engine/fleet/freshness.ts).
   */
  encodeStatus?: ((s: AgentStatus, kind: 'will' | 'online' | 'goodbye') => string) | undefined;
  /** An agent managed from a desktop seals each batch of events it forwards (one signature per batch: fleet/seal.ts). */
  sealEvents?: ((texts: string[]) => string[]) | undefined;
}

export interface ForwarderStatus {
  broker: string;
  agentId: string;
  connected: boolean;
  /** Log position acknowledged by the broker (and saved). */
  ackedSeq: number;
  /** Events published and awaiting their PUBACK. */
  inflight: number;
  /** Events in the log not yet acknowledged (including those the filter will skip). */
  backlog: number;
  lastError: string | null;
}

interface Slot {
  seq: number;
  done: boolean;
}

export class Forwarder {
  private client: MqttClient | null = null;
  private connected = false;
  private stopped = false;
  /** Highest seq read from the log and handed to the client (or skipped). */
  private readSeq: number;
  /** Highest seq below which everything is acknowledged. */
  private ackedSeq: number;
  private savedSeq: number;
  private inflight: Slot[] = [];
  private saveTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private inventoryTimer: NodeJS.Timeout | null = null;
  private unsubscribe: () => void = () => {};
  private lastError: string | null = null;
  private generation = 0;
  private readonly origin;

  constructor(private readonly o: ForwarderOptions) {
    const c = o.store.cursors.get(FORWARD_CURSOR);
    if (c.state === null) {
      // First start: forward what happens from now on, not the whole history the instance already had.
      const end = o.store.events.maxSeq();
      o.store.cursors.set(FORWARD_CURSOR, end, { since: new Date().toISOString() });
      this.ackedSeq = end;
    } else this.ackedSeq = c.seq;
    this.readSeq = this.ackedSeq;
    this.savedSeq = this.ackedSeq;
    this.origin = localOrigin(o.agentId);
  }

  start(): void {
    this.unsubscribe = this.o.onStored(() => {
      this.pump();
      this.o.onChange?.();
    });
    this.connectClient();
    this.pollTimer = setInterval(() => {
      if (this.connected && this.o.store.events.maxSeq() > this.readSeq) this.pump();
    }, POLL_MS);
    this.pollTimer.unref?.();
    this.inventoryTimer = setInterval(() => this.publishOnline(), INVENTORY_EVERY_MS);
    this.inventoryTimer.unref?.();
  }

  private encode(s: AgentStatus, kind: 'will' | 'online' | 'goodbye'): string {
    return this.o.encodeStatus ? this.o.encodeStatus(s, kind) : encodeStatus(s);
  }

  /** Publish the online status with a fresh inventory now (also called when monitors' health changes). */
  publishOnline(): void {
    if (this.stopped || !this.connected || !this.client) return;
    this.client.publish(statusTopic(this.o.agentId), this.encode(this.status_('online'), 'online'), { qos: 1, retain: true });
  }

  status(): ForwarderStatus {
    let backlog = 0;
    try {
      backlog = Math.max(0, this.o.store.events.maxSeq() - this.ackedSeq);
    } catch {
      /* store closed */
    }
    return { broker: this.o.broker.url, agentId: this.o.agentId, connected: this.connected, ackedSeq: this.ackedSeq, inflight: this.inflight.filter((s) => !s.done).length, backlog, lastError: this.lastError };
  }

  private status_(state: AgentStatus['state'], reason?: string): AgentStatus {
    const s: AgentStatus = { state, agentId: this.o.agentId, hostname: this.origin.hostname, at: new Date().toISOString() };
    if (reason) s.reason = reason;
    if (this.o.version) s.version = this.o.version;
    s.os = `${os.type()} ${os.release()} ${process.arch}`;
    s.startedAt = STARTED_AT;
    if (state === 'online') {
      s.uptime = Math.round(process.uptime());
      s.hostUptime = Math.round(os.uptime());
      try {
        s.queue = this.status().backlog;
        Object.assign(s, this.o.inventory?.() ?? {});
      } catch (err) {
        this.o.log.debug(`inventory: ${(err as Error).message}`);
      }
    } else if (this.o.inventory) {
      // Offline (the will, or a goodbye): who it is stays known, the live figures do not.
      try {
        const { release } = this.o.inventory();
        if (release) s.release = release;
      } catch {
        /* nothing more to say */
      }
    }
    return s;
  }

  private connectClient(): void {
    const gen = ++this.generation;
    const client = mqttConnect(
      this.o.broker.url,
      clientOptions(this.o.broker, this.o.tls, {
        clientId: `panoptes-fwd-${this.o.agentId}`,
        clean: true,
        keepalive: this.o.keepaliveSeconds ?? 30,
        // The broker announces us offline when we vanish without saying goodbye (crash, network loss).
        will: { topic: statusTopic(this.o.agentId), payload: Buffer.from(this.encode(this.status_('offline', 'connection lost'), 'will')), qos: 1, retain: true },
      }),
    );
    this.client = client;
    // mqtt.js sends the will it was given on every reconnect: a will made anew for each connection, so a signed
    // will's stamp stays above what that connection says (and below what the next one says).
    client.on('reconnect', () => {
      if (gen !== this.generation || !client.options.will || !this.o.encodeStatus) return;
      client.options.will.payload = Buffer.from(this.encode(this.status_('offline', 'connection lost'), 'will'));
    });
    client.on('connect', () => {
      if (gen !== this.generation) return;
      const first = !this.connected && this.lastError === null;
      this.connected = true;
      this.lastError = null;
      this.o.log.info(`${first ? 'connected' : 'reconnected'} to ${this.o.broker.url}; forwarding as ${this.o.agentId}`);
      this.publishOnline();
      this.pump();
      this.o.onChange?.();
    });
    client.on('close', () => {
      if (gen !== this.generation) return;
      if (this.connected) this.o.log.warn(`lost the broker ${this.o.broker.url}; events wait in the log until it is back`);
      const was = this.connected;
      this.connected = false;
      if (was) {
        // Shown until the next attempt says more (refused, unreachable…).
        this.lastError = 'the connection to the broker was lost; reconnecting';
        this.o.onChange?.();
      }
    });
    client.on('error', (err) => {
      if (gen !== this.generation) return;
      const msg = mqttErrorText(err);
      if (msg !== this.lastError) {
        this.o.log.warn(`forwarding to ${this.o.broker.url}: ${msg}`);
        this.lastError = msg;
        this.o.onChange?.();
      }
    });
  }

  /** Read the log past what was handed out and publish, up to the window. */
  private pump(): void {
    if (this.stopped || !this.connected || !this.client) return;
    const client = this.client;
    const gen = this.generation;
    try {
      while (this.inflight.length < WINDOW) {
        const batch: StoredEvent[] = this.o.store.events.readAfter(this.readSeq, Math.min(READ_BATCH, WINDOW - this.inflight.length));
        if (!batch.length) break;
        const slots: Slot[] = [];
        const texts: string[] = [];
        for (const e of batch) {
          this.readSeq = e.seq;
          // Events that came from another machine are not sent on again: no loops, no echoes.
          if (e.origin || !this.o.filter(e)) {
            this.inflight.push({ seq: e.seq, done: true });
            continue;
          }
          const slot: Slot = { seq: e.seq, done: false };
          this.inflight.push(slot);
          slots.push(slot);
          texts.push(encodeEvent(e, this.origin, (parts) => this.o.log.warn(`forwarding event ${e.id}: over the ${MAX_MESSAGE_BYTES / 1024 / 1024} MiB message limit (stored before events were capped), sent cut to the caps: ${parts.join(', ')}`)));
        }
        const payloads = this.o.sealEvents && texts.length ? this.o.sealEvents(texts) : texts;
        slots.forEach((slot, i) => {
          client.publish(eventsTopic(this.o.agentId), payloads[i]!, { qos: 1 }, (err) => {
            if (gen !== this.generation) return;
            if (err) {
              if (!this.stopped) this.restart(err);
              return;
            }
            slot.done = true;
            this.advance();
          });
        });
      }
    } catch (err) {
      this.o.log.error(`forwarding could not read the event log: ${(err as Error).message}`);
    }
    this.advance();
  }

  /** Move the acknowledged mark over the done prefix of the window; refill the window. */
  private advance(): void {
    let moved = false;
    while (this.inflight.length && this.inflight[0]!.done) {
      this.ackedSeq = this.inflight.shift()!.seq;
      moved = true;
    }
    if (!moved) return;
    this.scheduleSave();
    this.o.onChange?.();
    if (this.inflight.length < WINDOW / 2) setImmediate(() => this.pump());
  }

  private scheduleSave(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.save();
    }, SAVE_EVERY_MS);
    this.saveTimer.unref?.();
  }

  private save(): void {
    if (this.ackedSeq === this.savedSeq) return;
    try {
      this.o.store.cursors.set(FORWARD_CURSOR, this.ackedSeq);
      this.savedSeq = this.ackedSeq;
    } catch (err) {
      this.o.log.warn(`could not save the forwarding position: ${(err as Error).message}`);
    }
  }

  /**
   * A publish failed outright (not a lost connection, which the client rides out by resending its unacknowledged
   * messages in order): start over with a fresh client from the last acknowledged event, so order is kept.
   */
  private restart(err: Error): void {
    this.o.log.warn(`a publish to ${this.o.broker.url} failed (${mqttErrorText(err)}); resending from the last acknowledged event`);
    const old = this.client;
    this.generation++;
    this.client = null;
    this.connected = false;
    this.inflight = [];
    this.readSeq = this.ackedSeq;
    if (old) void old.endAsync(true).catch(() => {});
    setTimeout(() => {
      if (!this.stopped) this.connectClient();
    }, 1_000).unref?.();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe();
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.inventoryTimer) clearInterval(this.inventoryTimer);
    const client = this.client;
    this.client = null;
    if (client) {
      if (this.connected) {
        // Say goodbye (a clean disconnect does not trigger the will), then let in-flight acks arrive briefly.
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 1_000);
          client.publish(statusTopic(this.o.agentId), this.encode(this.status_('offline', 'stopped'), 'goodbye'), { qos: 1, retain: true }, () => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      // Acks that arrive while closing still advance the cursor.
      await endClient(client, 1_000);
    }
    this.generation++;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    this.advance();
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.save();
  }
}
