// MQTT in: subscribe to topics on a broker (Mosquitto, Home Assistant's, Node-RED's) and turn each message into
// an `mqtt.message` event. QoS 1/2 messages are acknowledged only once the event is stored, so a crash loses none.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { MonitorContext, MonitorDefinition } from '../../core/monitor.js';
import { mqttExecutor, mqttRuleAction } from './action.js';
import { SeenKeys } from './seen-keys.js';
import { IDEMPOTENCY_MQTT_PROPERTY } from '../../core/action.js';
import { clientOptions, endClient, loadMqtt, mqttConnect,  mqttErrorText, parseBrokerUrl, topicFilterProblem } from '../../base/mqtt.js';

const MAX_TITLE = 300;
/** Retained payloads remembered per topic (to skip the copy a broker resends on every reconnect). */
const MAX_REMEMBERED_TOPICS = 5_000;
/** MQTT 5 keeps a persistent session only as long as the client asks (0, the default, ends it at disconnect): a week. */
const SESSION_EXPIRY_S = 7 * 24 * 3600;
/** How long a dry run listens for what the broker holds (retained messages arrive right after subscribing). */
const DRY_RUN_LISTEN_MS = 1_500;
const RETRY_MS = 2_000;

const brokerUrl = z
  .string()
  .min(1)
  .superRefine((v, ctx) => {
    try {
      const a = parseBrokerUrl(v);
      if (a.password !== undefined) ctx.addIssue({ code: 'custom', message: 'put the password in the Password field (it is kept in the secret store), not in the address' });
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

const topicFilter = z
  .string()
  .superRefine((v, ctx) => {
    const p = topicFilterProblem(v);
    if (p) ctx.addIssue({ code: 'custom', message: p });
  });

export const mqttConfigSchema = z.object({
  url: brokerUrl.meta({ label: 'Broker', help: 'mqtt://host:1883, or mqtts://host:8883 for TLS.' }),
  topics: z
    .array(topicFilter)
    .min(1, 'subscribe to at least one topic')
    .max(100)
    .meta({ label: 'Topics', help: 'One or more topics; "+" matches one level (home/+/temperature), "#" everything below (zigbee2mqtt/#).' }),
  qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(0).meta({ label: 'QoS', help: '0: at most once; 1: at least once (acknowledged after the event is stored); 2: exactly once.' }),
  username: z.string().max(500).optional().meta({ label: 'User name' }),
  password: z.string().max(500).optional().meta({ label: 'Password', help: 'Kept in the secret store, never in the config file.', secret: true }),
  clientId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits and . _ - (at most 64)')
    .optional()
    .meta({ label: 'Client id', help: 'Set one together with a persistent session to receive what was published while Panoptes was off.' }),
  persistentSession: z.boolean().default(false).meta({ label: 'Persistent session', help: 'The broker keeps QoS 1/2 messages for Panoptes while it is away (needs a client id).' }),
  parseJson: z.boolean().default(true).meta({ label: 'Parse JSON payloads', help: 'A payload that is JSON becomes structured data in fields.payload, so rules can test its values.' }),
  skipRepeatedRetained: z
    .boolean()
    .default(true)
    .meta({ label: 'Skip unchanged retained messages', help: 'Brokers resend retained messages on every reconnect; emit one only when its payload changed.' }),
  maxPayloadBytes: z.number().int().min(64).max(16 * 1024 * 1024).default(256 * 1024).meta({ label: 'Largest payload (bytes)', help: 'Longer payloads are cut (the event says so).' }),
  ca: z.string().optional().meta({ label: 'CA file', help: 'PEM file of a private CA that signed the broker certificate.' }),
  cert: z.string().optional().meta({ label: 'Client certificate file', help: 'PEM, for brokers that authenticate clients by certificate.' }),
  key: z.string().optional().meta({ label: 'Client key file', help: 'PEM key of the client certificate.' }),
  rejectUnauthorized: z.boolean().default(true).meta({ label: 'Verify the broker certificate' }),
}).refine((c) => !c.persistentSession || c.clientId !== undefined, { message: 'a persistent session needs a client id', path: ['clientId'] });
export type MqttMonitorConfig = z.infer<typeof mqttConfigSchema>;

/** The fields of an `mqtt.message`: the payload as JSON when it is JSON, as text when it is text, else base64. */
export function decodePayload(raw: Buffer, parseJson: boolean, maxBytes: number): { text: string; payload: unknown; encoding: 'json' | 'text' | 'base64'; truncated: boolean } {
  const truncated = raw.length > maxBytes;
  const bytes = truncated ? raw.subarray(0, maxBytes) : raw;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    if (!truncated) {
      const b64 = bytes.toString('base64');
      return { text: b64, payload: b64, encoding: 'base64', truncated };
    }
    // A cut in the middle of a multi-byte character is not binary data: decode leniently.
    text = new TextDecoder('utf-8').decode(bytes);
  }
  if (parseJson && !truncated) {
    const t = text.trim();
    if (t && (t[0] === '{' || t[0] === '[' || t[0] === '"' || /^(-?\d|true$|false$|null$)/.test(t))) {
      try {
        return { text, payload: JSON.parse(t), encoding: 'json', truncated };
      } catch {
        /* not JSON after all: keep the text */
      }
    }
  }
  return { text, payload: text, encoding: 'text', truncated };
}

function digest(b: Buffer): string {
  return createHash('sha256').update(b).digest('base64').slice(0, 22);
}

class MqttMonitor {
  private client: MqttClient | null = null;
  private remembered: Record<string, string>;
  private everConnected = false;
  /** Idempotency keys seen (a Panoptes `mqtt` action's, or any publisher's), saved with the event they came with. */
  private readonly keys: SeenKeys;
  /** MQTT 5 first (user properties carry the idempotency key); 3.1.1 for a broker that refuses 5. */
  private version: 4 | 5 = 5;

  constructor(private readonly ctx: MonitorContext<MqttMonitorConfig>) {
    this.remembered = ctx.dryRun ? {} : (ctx.state.get<Record<string, string>>('retained') ?? {});
    this.keys = new SeenKeys(ctx.dryRun ? null : ctx.state);
  }

  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (err) {
      // CONNACK 1 (3.1.1) / 132 (5): "unsupported protocol version": this broker speaks 3.1.1 only.
      const code = (err as { code?: unknown }).code;
      if (this.version !== 5 || (code !== 1 && code !== 132)) throw err;
      this.version = 4;
      this.ctx.log.info('the broker does not speak MQTT 5; using 3.1.1 (no idempotency keys)');
      await this.connect();
    }
  }

  private async connect(): Promise<void> {
    const cfg = this.ctx.config;
    const address = parseBrokerUrl(cfg.url);
    if (cfg.username) address.username = cfg.username;
    const password = this.ctx.secrets.password ?? cfg.password;
    if (password) address.password = password;
    await loadMqtt();
    const client = mqttConnect(
      address.url,
      clientOptions(address, { ca: cfg.ca, cert: cfg.cert, key: cfg.key, rejectUnauthorized: cfg.rejectUnauthorized }, {
        clean: !cfg.persistentSession,
        protocolVersion: this.version,
        ...(this.version === 5 && cfg.persistentSession ? { properties: { sessionExpiryInterval: SESSION_EXPIRY_S } } : {}),
        ...(cfg.clientId ? { clientId: cfg.clientId } : {}),
        reconnectPeriod: this.ctx.dryRun ? 0 : RETRY_MS,
      }),
    );
    this.client = client;
    // Acknowledge (QoS 1/2) only after the event is durably stored: mqtt.js sends PUBACK when this calls back.
    client.handleMessage = (packet, done) => {
      this.onMessage(packet).then(
        () => done(),
        (err) => done(err as Error),
      );
    };
    client.on('close', () => {
      if (this.everConnected && !this.ctx.signal.aborted) this.ctx.health.failing(new Error(`connection to ${address.url} lost`), RETRY_MS);
    });
    client.on('error', (err) => {
      if (this.everConnected && !this.ctx.signal.aborted) this.ctx.health.failing(new Error(mqttErrorText(err)), RETRY_MS);
    });
    client.on('connect', (connack) => {
      if (!this.everConnected) return;
      this.ctx.log.info(`reconnected to ${address.url}`);
      if (!connack.sessionPresent) void this.subscribe().catch((err) => this.ctx.health.failing(err, RETRY_MS));
      else this.ctx.health.ok(`subscribed to ${cfg.topics.length} topic(s)`);
    });

    try {
      await new Promise<void>((resolve, reject) => {
        const onConnect = () => {
          cleanup();
          resolve();
        };
        const onError = (err: Error) => {
          cleanup();
          reject(Object.assign(new Error(`${address.url}: ${mqttErrorText(err)}`), { code: (err as { code?: unknown }).code }));
        };
        const onClose = () => {
          cleanup();
          reject(new Error(`${address.url}: could not connect`));
        };
        const cleanup = () => {
          client.off('connect', onConnect);
          client.off('error', onError);
          client.off('close', onClose);
        };
        client.once('connect', onConnect);
        client.once('error', onError);
        client.once('close', onClose);
      });
      this.everConnected = true;
      await this.subscribe();
    } catch (err) {
      await client.endAsync(true).catch(() => {});
      this.client = null;
      throw err;
    }
    if (this.ctx.dryRun) await new Promise((r) => setTimeout(r, DRY_RUN_LISTEN_MS));
  }

  private async subscribe(): Promise<void> {
    const cfg = this.ctx.config;
    const grants = await this.client!.subscribeAsync(cfg.topics, { qos: cfg.qos });
    const refused = grants.filter((g) => g.qos === 128).map((g) => g.topic);
    if (refused.length === cfg.topics.length) throw new Error(`the broker refused every subscription (${refused.join(', ')})`);
    if (refused.length) this.ctx.health.degraded(`the broker refused ${refused.join(', ')}`);
    else this.ctx.health.ok(`subscribed to ${cfg.topics.length} topic(s)`);
  }

  private async onMessage(packet: IPublishPacket): Promise<void> {
    const cfg = this.ctx.config;
    const raw = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (packet.retain && cfg.skipRepeatedRetained && !this.ctx.dryRun) {
      const h = digest(raw);
      if (this.remembered[packet.topic] === h) return;
      this.rememberRetained(packet.topic, h);
    }
    // A repeat of a message already taken in (a publisher's retry after a lost PUBACK, a Panoptes action run twice
    // across a crash) carries the same idempotency key: dropped here, acknowledged all the same.
    const prop = packet.properties?.userProperties?.[IDEMPOTENCY_MQTT_PROPERTY];
    const key = typeof prop === 'string' ? prop : Array.isArray(prop) ? (prop[0] ?? null) : null;
    if (key !== null && this.keys.has(key)) return;
    const d = decodePayload(raw, cfg.parseJson, cfg.maxPayloadBytes);
    // This key's row, saved in the same transaction as the event.
    const seen = key !== null && !this.ctx.dryRun ? this.keys.entry(key) : null;
    const title = packet.topic.length > MAX_TITLE ? packet.topic.slice(0, MAX_TITLE - 1) + '…' : packet.topic;
    await this.ctx.emit({
      type: 'mqtt.message',
      title,
      body: d.encoding === 'base64' ? `(${raw.length} bytes of binary data)` : d.text,
      fields: { topic: packet.topic, payload: d.payload, retained: packet.retain, qos: packet.qos, encoding: d.encoding, truncated: d.truncated, idempotencyKey: key },
      tags: ['mqtt'],
    }, seen ? { state: seen.state } : undefined);
    // Remembered once stored: a message whose event failed to store is not acknowledged, and its redelivery is taken.
    seen?.taken();
  }

  private rememberRetained(topic: string, hash: string): void {
    delete this.remembered[topic];
    this.remembered[topic] = hash;
    const keys = Object.keys(this.remembered);
    // Insertion order is age order: drop the oldest beyond the bound so state stays small.
    for (let i = 0; i < keys.length - MAX_REMEMBERED_TOPICS; i++) delete this.remembered[keys[i]!];
    this.ctx.state.set('retained', this.remembered);
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) await endClient(c, 1_000);
  }
}

const definition: MonitorDefinition<MqttMonitorConfig> = {
  type: 'mqtt',
  badge: 'MQTT',
  category: 'Incoming',
  title: 'MQTT',
  description: 'Subscribes to topics on an MQTT broker (Mosquitto, Home Assistant, Node-RED, Zigbee2MQTT) and turns each message into an event; JSON payloads become data rules can test.',
  configSchema: mqttConfigSchema,
  events: [
    {
      type: 'mqtt.message',
      description: 'A message arrived on a subscribed topic (retained ones too; an unchanged retained message resent on reconnect is skipped unless asked).',
      fields: {
        topic: 'The topic it was published to, e.g. home/kitchen/temperature',
        payload: 'The payload: parsed JSON when it is JSON (e.g. fields.payload.temperature), else the text, else base64',
        retained: 'true when the broker kept it as the topic\'s last value (sent on subscribing)',
        qos: 'Delivery level it arrived with: 0, 1 or 2',
        encoding: '"json", "text" or "base64"',
        truncated: 'true when the payload was longer than the maximum and was cut',
        idempotencyKey: 'The MQTT 5 user property "idempotency-key" it carried (Panoptes\' mqtt actions set it), or null; a message repeating a key already taken in is dropped',
      },
    },
  ],
  // Rules' `mqtt` messages go to the broker chosen in Settings → Machines, not through an mqtt monitor.
  actions: { mqtt: { rule: mqttRuleAction, executor: (host) => mqttExecutor(() => host.mqttBroker()) } },
  // The broker and each topic subscribed to.
  sources: (c) => c.topics.map((t) => `${c.url} ${t}`),
  create: (ctx) => new MqttMonitor(ctx),
};

export default definition;
