// Shared MQTT plumbing for the mqtt monitor, the mqtt action and forwarding: broker URLs with their credentials
// taken out (so they can be shown and logged), client options with TLS files, and topic checks.
import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';

export interface TlsFiles {
  /** PEM file of the CA that signed the broker's certificate (a private CA). */
  ca?: string | undefined;
  /** PEM client certificate and key, for brokers that authenticate clients by certificate. */
  cert?: string | undefined;
  key?: string | undefined;
  rejectUnauthorized?: boolean | undefined;
}

export interface BrokerAddress {
  /** `mqtt://host:port` without user or password: safe to log and to show. */
  url: string;
  username?: string;
  /** Taken out of the URL when one was written there; never logged. */
  password?: string;
}

const SCHEMES = new Set(['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:']);
const DEFAULT_PORT: Record<string, number> = { 'mqtt:': 1883, 'tcp:': 1883, 'mqtts:': 8883, 'ssl:': 8883, 'ws:': 80, 'wss:': 443 };

/** Parse `mqtt[s]://[user[:pass]@]host[:port]`; throws a message a user can act on. */
export function parseBrokerUrl(raw: string): BrokerAddress {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`not a broker address: ${redactUrl(raw)} (write it like mqtt://host:1883 or mqtts://host:8883)`);
  }
  if (!SCHEMES.has(u.protocol)) throw new Error(`broker address must start with mqtt://, mqtts://, ws:// or wss:// (got ${u.protocol}//)`);
  if (!u.hostname) throw new Error('broker address has no host');
  const out: BrokerAddress = { url: '' };
  if (u.username) out.username = decodeURIComponent(u.username);
  if (u.password) out.password = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  const port = u.port || String(DEFAULT_PORT[u.protocol] ?? '');
  const pathPart = u.protocol === 'ws:' || u.protocol === 'wss:' ? u.pathname : '';
  out.url = `${u.protocol}//${u.hostname.includes(':') && !u.hostname.startsWith('[') ? `[${u.hostname}]` : u.hostname}${port ? `:${port}` : ''}${pathPart === '/' ? '' : pathPart}`;
  return out;
}

/** The address with any password replaced, for messages and logs. Never throws. */
export function redactUrl(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@]*)@/i, (_m, scheme: string, cred: string) => {
    const user = cred.split(':')[0] ?? '';
    return `${scheme}${user ? `${user}:***` : '***'}@`;
  });
}

/** Where a broker's password is kept in the secret store: one key per (user, broker). */
export function secretKeyFor(address: BrokerAddress): string {
  return `password:${address.username ?? ''}@${address.url}`;
}

/** What each TLS file is called in messages (the connection's and the settings form's alike). */
export const TLS_FILE_NAMES = { ca: 'CA file', cert: 'client certificate', key: 'client key' } as const;

export function clientOptions(address: BrokerAddress, tls: TlsFiles | undefined, extra: IClientOptions): IClientOptions {
  const o: IClientOptions = {
    protocolVersion: 4,
    connectTimeout: 10_000,
    reconnectPeriod: 2_000,
    ...extra,
  };
  if (address.username !== undefined) o.username = address.username;
  if (address.password !== undefined) o.password = address.password;
  if (tls) {
    if (tls.ca) o.ca = readTlsFile(tls.ca, TLS_FILE_NAMES.ca);
    if (tls.cert) o.cert = readTlsFile(tls.cert, TLS_FILE_NAMES.cert);
    if (tls.key) o.key = readTlsFile(tls.key, TLS_FILE_NAMES.key);
    if (tls.rejectUnauthorized === false) o.rejectUnauthorized = false;
  }
  return o;
}

function readTlsFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** A topic filter to subscribe to: `+` takes a whole level, `#` only a whole last level. */
export function topicFilterProblem(filter: string): string | null {
  if (!filter) return 'a topic cannot be empty';
  if (Buffer.byteLength(filter) > 65_535) return 'a topic is at most 65535 bytes';
  if (filter.includes('\u0000')) return 'a topic cannot contain NUL';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    if (l.includes('#') && (l !== '#' || i !== levels.length - 1)) return `"#" must be a whole level at the end (in ${JSON.stringify(filter)})`;
    if (l.includes('+') && l !== '+') return `"+" must be a whole level (in ${JSON.stringify(filter)})`;
  }
  return null;
}

/** A topic to publish to: no wildcards. */
export function topicNameProblem(topic: string): string | null {
  if (!topic) return 'a topic cannot be empty';
  if (Buffer.byteLength(topic) > 65_535) return 'a topic is at most 65535 bytes';
  if (topic.includes('\u0000')) return 'a topic cannot contain NUL';
  if (/[+#]/.test(topic)) return `cannot publish to a topic with wildcards (${JSON.stringify(topic)})`;
  return null;
}

/** Turn whatever the client raised into one readable line (mqtt.js errors can be bare codes). */
export function mqttErrorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') return 'connection refused (is the broker running?)';
    if (code === 'ENOTFOUND') return 'broker host not found';
    if (/Not authorized|Bad username or password/i.test(err.message)) return `the broker refused the login: ${err.message}`;
    return err.message || code || err.name;
  }
  return String(err);
}

/** Close a client: politely (waits for in-flight acks) for at most `graceMs`, then by force. Never throws. */
export async function endClient(client: { endAsync(force?: boolean): Promise<void> }, graceMs = 2_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const polite = client.endAsync(false).then(
    () => true,
    () => false,
  );
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)));
  const ok = await Promise.race([polite, timeout]);
  clearTimeout(timer);
  if (!ok) await client.endAsync(true).catch(() => {});
}

type MqttModule = typeof import('mqtt');
let mqttModule: MqttModule | null = null;

/**
 * mqtt.js is loaded when something first talks to a broker (forwarding, receiving, the mqtt monitor or action):
 * an engine with none of them keeps its ~20 MB out of memory. Await this once before `mqttConnect`.
 */
export async function loadMqtt(): Promise<MqttModule> {
  return (mqttModule ??= await import('mqtt'));
}

/** `mqtt.connect`, for code that connects synchronously after `loadMqtt()` was awaited on its way in. */
export function mqttConnect(url: string, options: IClientOptions): import('mqtt').MqttClient {
  if (!mqttModule) throw new Error('internal: mqtt.js used before loadMqtt() was awaited');
  return mqttModule.connect(url, options);
}
