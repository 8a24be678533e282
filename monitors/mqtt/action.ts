import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import { IDEMPOTENCY_MQTT_PROPERTY, permanentError, type ActionExecutor, type RuleActionSpec } from '../../core/action.js';
import { clientOptions, endClient, loadMqtt, mqttConnect,  mqttErrorText, topicNameProblem, type BrokerAddress, type TlsFiles } from '../../base/mqtt.js';

export interface MqttBroker {
  address: BrokerAddress;
  tls?: TlsFiles | undefined;
}

interface Conn {
  key: string;
  /** MQTT 5 when the broker speaks it (the idempotency key rides as a user property), else 3.1.1. */
  version: 4 | 5;
  client: MqttClient;
  idle: NodeJS.Timeout | null;
  lastError: string | null;
}

/** How a rule writes `mqtt`: topic and payload are templates; retain (default false) and QoS (default 0) are given. */
export const mqttRuleAction: RuleActionSpec<{ topic: string; payload: string; retain?: boolean | undefined; qos?: 0 | 1 | 2 | undefined }> = {
  params: (template) =>
    z.strictObject({ topic: template, payload: template, retain: z.boolean().optional(), qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional() }),
  render: (m, r) => ({ topic: r(m.topic, 'topic'), payload: r(m.payload, 'payload'), retain: m.retain ?? false, qos: m.qos ?? 0 }),
};

/** Give up on one publish after this long (the outbox retries it with backoff). */
const PUBLISH_TIMEOUT_MS = 15_000;
/** A connection nobody published on for this long is closed; the next action opens a new one. */
const IDLE_CLOSE_MS = 60_000;

/**
 * `mqtt {topic, payload, retain, qos}`: publish to the configured broker (settings' actionBroker, else the forward
 * broker), so rules can drive Home Assistant or Node-RED. One connection per broker, kept while actions flow.
 * Retry-safe: a message published twice at QoS 0/1 is within what MQTT promises anyway. Over MQTT 5 every message
 * carries the action's idempotency key as the user property `idempotency-key`; a broker that only speaks 3.1.1 (the
 * embedded aedes) gets the message without it.
 */
export function mqttExecutor(brokerOf: () => MqttBroker | null): ActionExecutor {
  let current: Conn | null = null;
  let closed = false;
  /** Brokers that refused MQTT 5: they get 3.1.1 from then on. */
  const olderBrokers = new Set<string>();

  const drop = async () => {
    const c = current;
    current = null;
    if (!c) return;
    if (c.idle) clearTimeout(c.idle);
    await endClient(c.client, 1_000);
  };

  const connFor = async (broker: MqttBroker): Promise<Conn> => {
    const key = JSON.stringify([broker.address, broker.tls ?? null]);
    if (current && current.key !== key) await drop();
    if (!current) {
      const version = olderBrokers.has(key) ? 4 : 5;
      await loadMqtt();
      const client = mqttConnect(broker.address.url, clientOptions(broker.address, broker.tls, { clean: true, reconnectPeriod: 2_000, protocolVersion: version }));
      const conn: Conn = { key, version, client, idle: null, lastError: null };
      client.on('error', (err) => {
        conn.lastError = mqttErrorText(err);
        // CONNACK 1 (3.1.1) / 132 (5): "unsupported protocol version": speak 3.1.1 to this broker from now on.
        const code = (err as { code?: unknown }).code;
        if (version === 5 && (code === 1 || code === 132)) {
          olderBrokers.add(key);
          if (current === conn) void drop();
        }
      });
      current = conn;
    }
    const c = current;
    if (c.idle) clearTimeout(c.idle);
    c.idle = setTimeout(() => {
      if (current === c) void drop();
    }, IDLE_CLOSE_MS);
    c.idle.unref?.();
    return c;
  };

  return {
    retrySafe: true,
    maxAttempts: 6,
    // One connection to the broker; publishes go out on it in the order they started.
    concurrency: 8,
    timeoutMs: PUBLISH_TIMEOUT_MS + 5_000,
    destination: () => 'mqtt',
    async run(action, ctx) {
      if (closed) throw new Error('shutting down');
      const a = (action as { mqtt: { topic: string; payload: string; retain?: boolean; qos?: 0 | 1 | 2 } }).mqtt;
      const problem = topicNameProblem(a.topic);
      if (problem) throw permanentError(`mqtt action: ${problem}`);
      let broker: MqttBroker | null;
      try {
        broker = brokerOf();
      } catch (err) {
        throw permanentError(`mqtt action: ${(err as Error).message}`);
      }
      if (!broker) throw permanentError("mqtt action: no broker is configured (Settings → Machines: a forward broker, or rules' MQTT messages' own broker)");
      const conn = await connFor(broker);
      const client = conn.client;
      const qos = a.qos ?? 0;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          const why = conn.lastError;
          // Drop the connection with whatever it still queues, so the outbox's retry is the only copy that follows.
          if (current === conn) void drop();
          reject(new Error(`mqtt action: ${broker.address.url} did not take the message within ${PUBLISH_TIMEOUT_MS / 1000} s${why ? ` (${why})` : ''}`));
        }, PUBLISH_TIMEOUT_MS);
        const onAbort = () => {
          clearTimeout(timer);
          reject(new Error('aborted'));
        };
        ctx.signal.addEventListener('abort', onAbort, { once: true });
        const finish = (err?: Error) => {
          clearTimeout(timer);
          ctx.signal.removeEventListener('abort', onAbort);
          if (err) reject(new Error(`mqtt action: ${mqttErrorText(err)}`));
          else resolve();
        };
        const options = { qos, retain: a.retain ?? false, ...(conn.version === 5 ? { properties: { userProperties: { [IDEMPOTENCY_MQTT_PROPERTY]: ctx.idempotencyKey } } } : {}) };
        // QoS 0 completes once written to the socket; a disconnected client would queue it, so wait for a connection.
        if (qos === 0 && !client.connected) {
          client.once('connect', () => client.publish(a.topic, a.payload, options, (err) => finish(err ?? undefined)));
        } else client.publish(a.topic, a.payload, options, (err) => finish(err ?? undefined));
      });
    },
    async close() {
      closed = true;
      await drop();
    },
  };
}
