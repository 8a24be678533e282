/**
 * The service protocol: one typed definition that the UI and the CLI use for everything, carried over a
 * WebSocket (headless agent, browser) or an Electron MessagePort (desktop window). The renderer imports
 * this file's types and nothing else from core.
 */
import type { PanoptesEvent } from './event.js';

export const PROTOCOL_VERSION = 1;

export type HealthStatus = 'starting' | 'ok' | 'degraded' | 'failing' | 'stopped' | 'paused';

export interface MonitorHealth {
  monitorId: string;
  status: HealthStatus;
  message: string | null;
  lastSuccess: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  nextRetry: string | null;
  consecutiveFailures: number;
}


export interface MonitorConfigEntry {
  id: string;
  type: string;
  name: string;
  enabled: boolean;
  /** Non-secret settings only. */
  config: Record<string, unknown>;
  /** Names of secret fields that have a value stored (values are never sent back). */
  secretsSet?: string[];
  /** Keep events of this monitor N days (null: the global default). */
  retentionDays?: number | null;
}

export interface MonitorInfo extends MonitorConfigEntry {
  health: MonitorHealth;
}

export interface MonitorTypeInfo {
  type: string;
  title: string;
  description: string;
  /** JSON Schema of the config (labels/help/secret in each property's meta). */
  configSchema: Record<string, unknown>;
  events: { type: string; description: string; fields: Record<string, string> }[];
}

export interface FlagState {
  name: string;
  value: boolean;
  setAt: string;
  expiresAt: string | null;
  setBy: string | null;
}

export interface NotificationPayload {
  id: string;
  eventId: string;
  ruleId: string;
  title: string;
  body: string;
  url: string | null;
  priority: 'low' | 'normal' | 'high';
  sound: boolean;
  at: string;
}

export interface Settings {
  retentionDays: number;
  commandsEnabled: boolean;
  notifications: {
    holdDuringFlags: string[];
    allowHighPriorityThrough: boolean;
    coalescePerMinute: number;
  };
  theme: 'system' | 'light' | 'dark';
  traceLimitPerRule: number;
}

export interface EventQuery {
  search?: string;
  source?: string | string[];
  type?: string | string[];
  tag?: string;
  since?: string;
  until?: string;
  /** Keyset pagination: events strictly older than this id (newest first) … */
  before?: string;
  /** … or strictly newer (oldest first). */
  after?: string;
  limit?: number;
  order?: 'desc' | 'asc';
}

export interface EventPage {
  events: PanoptesEvent[];
  /** Pass as `before` (or `after` with order asc) to get the next page; null at the end. */
  next: string | null;
}

export interface ValidationIssue {
  path: string;
  message: string;
}

export interface RuleTestResult {
  firings: { rule: string; at: string; events: string[]; actions: unknown[]; trace?: unknown }[];
  eventsScanned: number;
  errors: ValidationIssue[];
}

/** A broker address as kept in settings: never with a password (passwords live in the secret store). */
export interface BrokerSettings {
  url: string;
  tls?: { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean };
}

/** Forwarding between Panoptes instances over MQTT, as saved in the config document (no secrets). */
export interface ForwardingSettings {
  /** Publish this instance's events to `panoptes/<agentId>/events`; `filter` is a rule's `when`/`if`. */
  forward: (BrokerSettings & { agentId?: string; filter?: { when?: unknown; if?: unknown }; keepaliveSeconds?: number }) | null;
  /** Brokers whose `panoptes/+/events` this instance takes in. */
  subscribe: (BrokerSettings & { clientId?: string })[];
  embeddedBroker: { enabled: boolean; port: number; host: string };
  /** Broker for the rules' `mqtt` action (the forward broker when null). */
  actionBroker: BrokerSettings | null;
}

/**
 * What `forwarding.update` takes: the settings, where any broker may carry a password (in its URL or as
 * `password`; null removes the stored one) and the embedded broker its login. Secrets go to the secret store.
 */
export interface ForwardingUpdate {
  forward?: (ForwardingSettings['forward'] & { password?: string | null }) | null;
  subscribe?: (ForwardingSettings['subscribe'][number] & { password?: string | null })[];
  embeddedBroker?: Partial<ForwardingSettings['embeddedBroker']> & { username?: string; password?: string | null };
  actionBroker?: (BrokerSettings & { password?: string | null }) | null;
}

export interface ForwardingPeer {
  agentId: string;
  hostname: string;
  state: 'online' | 'offline';
  /** When this instance last heard from the peer (an event or a status). */
  lastSeen: string;
  /** The offline reason the peer (or its last will) gave. */
  reason: string | null;
}

export interface ForwardingStatusInfo {
  forward: { broker: string; agentId: string; connected: boolean; queued: number; inflight: number; lastError: string | null } | null;
  receivers: { broker: string; connected: boolean; received: number; stored: number; duplicates: number; rejected: number; lastError: string | null }[];
  embeddedBroker: { host: string; port: number; running: boolean; error: string | null } | null;
  peers: ForwardingPeer[];
  /** Why configured forwarding is not running (a bad filter written by hand, a port in use…). */
  problems: string[];
}

export interface ForwardingInfo {
  settings: ForwardingSettings;
  /** Which secrets have a value stored (never the values). */
  secretsSet: { forward: boolean; subscribe: boolean[]; actionBroker: boolean; embeddedBroker: boolean };
  /** The embedded broker's user name ("panoptes" unless set). */
  embeddedBrokerUsername: string;
  /** `panoptes agent --forward`: the target of this run, in force until the settings are saved. */
  commandLineForward: { url: string; agentId: string | null } | null;
  status: ForwardingStatusInfo;
}

/** A notification channel's health: how its last sends went (kept across restarts). */
export interface ChannelHealth {
  status: 'unknown' | 'ok' | 'failing';
  lastSuccess: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  /** The settings field the last error is about (the token for a 401), for the form. */
  lastErrorField: string | null;
}

export interface ChannelInfo {
  id: string;
  type: string;
  name: string;
  enabled: boolean;
  /** Non-secret settings only. */
  config: Record<string, unknown>;
  /** Names of secret fields that have a value stored (values are never sent back). */
  secretsSet: string[];
  health: ChannelHealth;
}

export interface ChannelTypeInfo {
  type: string;
  title: string;
  description: string;
  /** JSON Schema of the settings (labels/help/secret in each property's meta), for the form. */
  configSchema: Record<string, unknown>;
  /** Apprise-style URL schemes this type accepts when adding (`ntfys`, `tgram`). */
  urlSchemes: string[];
}

/** What "Send test notification" gives: delivered, or the service's refusal with the field it is about. */
export interface ChannelTestResult {
  ok: boolean;
  message: string;
  field: string | null;
  retryAfterMs: number | null;
}

/** Every request: its params and its result. */
export interface Requests {
  'hello': { params: Record<string, never>; result: { version: number; agentId: string; dataDir: string; paused: boolean } };
  'events.list': { params: EventQuery; result: EventPage };
  'events.get': { params: { id: string }; result: PanoptesEvent | null };
  /** Counts at most 10,000; `capped` means there are more. */
  'events.count': { params: EventQuery; result: { count: number; capped: boolean } };
  'monitors.types': { params: Record<string, never>; result: MonitorTypeInfo[] };
  'monitors.list': { params: Record<string, never>; result: MonitorInfo[] };
  'monitors.add': { params: { type: string; name: string; config: Record<string, unknown>; enabled?: boolean; id?: string }; result: MonitorInfo };
  'monitors.update': { params: { id: string; name?: string; config?: Record<string, unknown>; enabled?: boolean; retentionDays?: number | null }; result: MonitorInfo };
  'monitors.remove': { params: { id: string }; result: { removed: boolean } };
  /** Dry run; with `id`, the stored secrets of that monitor fill in what the form left empty. */
  'monitors.test': { params: { type: string; config: Record<string, unknown>; id?: string }; result: { events: PanoptesEvent[] } };
  'monitors.checkNow': { params: { id: string }; result: { started: boolean } };
  'monitors.importOpml': { params: { opml: string; intervalMinutes?: number }; result: { added: string[]; skipped: string[] } };
  'monitors.exportOpml': { params: Record<string, never>; result: { opml: string } };
  'monitors.pauseAll': { params: { paused: boolean }; result: { paused: boolean } };
  'rules.list': { params: Record<string, never>; result: { rules: unknown[]; errors: (ValidationIssue & { ruleId?: string })[] } };
  'rules.save': { params: { rule: unknown }; result: { rule: unknown } };
  'rules.replaceAll': { params: { rules: unknown[] }; result: { count: number } };
  'rules.remove': { params: { id: string }; result: { removed: boolean } };
  'rules.validate': { params: { rule: unknown }; result: { ok: boolean; errors: ValidationIssue[] } };
  'rules.test': { params: { rule: unknown; since?: string; until?: string; flags?: Record<string, boolean> }; result: RuleTestResult };
  'rules.explain': { params: { eventId: string; ruleId?: string }; result: { verdicts: { ruleId: string; matched: boolean; reason: string; details?: unknown }[] } };
  /** Render a Liquid template against a stored event (the newest one when no id), as a rule firing on it would. */
  'rules.preview': { params: { template: string; eventId?: string; ruleId?: string }; result: { text: string; error: string | null; eventId: string | null } };
  'traces.list': { params: { ruleId?: string; limit?: number }; result: { traces: unknown[] } };
  'flags.list': { params: Record<string, never>; result: FlagState[] };
  'flags.set': { params: { name: string; for?: string }; result: FlagState };
  'flags.clear': { params: { name: string }; result: { cleared: boolean } };
  'settings.get': { params: Record<string, never>; result: Settings };
  'settings.update': { params: Partial<Settings>; result: Settings };
  'notifications.recent': { params: { limit?: number }; result: NotificationPayload[] };
  'channels.types': { params: Record<string, never>; result: ChannelTypeInfo[] };
  'channels.list': { params: Record<string, never>; result: ChannelInfo[] };
  /** From a type and its settings, or from an Apprise-style `url` (`ntfys://ntfy.sh/topic`); secrets go to the secret store. */
  'channels.add': { params: { name?: string; type?: string; config?: Record<string, unknown>; url?: string; enabled?: boolean; id?: string }; result: ChannelInfo };
  /** A secret left empty keeps the stored one; null removes it. */
  'channels.update': { params: { id: string; name?: string; config?: Record<string, unknown>; enabled?: boolean }; result: ChannelInfo };
  'channels.remove': { params: { id: string }; result: { removed: boolean } };
  /** Send a test notification through a saved channel (`id`; the form's unsaved changes in `config` apply), or through `type` + `config` / `url` not saved yet. */
  'channels.test': { params: { id?: string; type?: string; config?: Record<string, unknown>; url?: string }; result: ChannelTestResult };
  'forwarding.get': { params: Record<string, never>; result: ForwardingInfo };
  /** Validate, keep secrets apart, save, and restart forwarding with the new settings (the engine keeps running). */
  'forwarding.update': { params: ForwardingUpdate; result: ForwardingInfo };
}

export type Method = keyof Requests;
export type ParamsOf<M extends Method> = Requests[M]['params'];
export type ResultOf<M extends Method> = Requests[M]['result'];

/** Server → client pushes. */
export interface Pushes {
  'event': PanoptesEvent;
  'health': MonitorHealth;
  'flags': FlagState[];
  'notification': NotificationPayload;
  'monitors': MonitorInfo[];
  'rules': { changed: true };
  'paused': { paused: boolean };
  'forwarding': ForwardingStatusInfo;
  'channels': ChannelInfo[];
}
export type Topic = keyof Pushes;

export type WireMessage =
  | { kind: 'req'; id: number; method: Method; params: unknown }
  | { kind: 'res'; id: number; ok: true; result: unknown }
  | { kind: 'res'; id: number; ok: false; error: ProtocolError }
  | { kind: 'push'; topic: Topic; data: unknown };

export interface ProtocolError {
  code: 'bad_request' | 'not_found' | 'invalid' | 'unavailable' | 'internal' | 'forbidden';
  message: string;
  issues?: ValidationIssue[];
}
