// What travels between Panoptes instances: topics, the forwarded event (the event JSON plus its origin) and the
// agent status. Everything received is untrusted: it is checked and clamped before it can enter the store.
import os from 'node:os';
import { z } from 'zod';
import type { EventOrigin, PanoptesEvent } from '../../core/event.js';
import { EVENT_LIMITS, normalizeNewEvent } from '../../core/event.js';

export const TOPIC_ROOT = 'panoptes';
export const AGENT_ID = /^[A-Za-z0-9._-]{1,64}$/;
/**
 * The most characters an event within EVENT_LIMITS (core/event.ts) holds, counted as the caps count them, with room
 * for their cut markers and the other parts.
 */
const CAPPED_EVENT_CHARS = EVENT_LIMITS.title + EVENT_LIMITS.body + EVENT_LIMITS.url + EVENT_LIMITS.tags * EVENT_LIMITS.tag + EVENT_LIMITS.fields + 64 * 1024;
/**
 * A forwarded event larger than this is refused. Every event the store keeps must fit: as JSON in UTF-8 a character
 * takes at most 6 bytes ("\u0001"; a '€' 3), so an event at the caps is at most ~8 MB (~1.3 M characters); twice
 * that as headroom. An event over it (only one stored before the caps existed) is cut to the caps before it is sent.
 */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
if (6 * CAPPED_EVENT_CHARS > MAX_MESSAGE_BYTES) throw new Error('MAX_MESSAGE_BYTES no longer fits an event at EVENT_LIMITS');

export const eventsTopic = (agentId: string) => `${TOPIC_ROOT}/${agentId}/events`;
export const statusTopic = (agentId: string) => `${TOPIC_ROOT}/${agentId}/status`;
export const ALL_EVENTS = `${TOPIC_ROOT}/+/events`;
export const ALL_STATUS = `${TOPIC_ROOT}/+/status`;

/** `panoptes/<agent>/<kind>` → its parts, or null for any other topic. */
export function parseTopic(topic: string): { agentId: string; kind: 'events' | 'status' } | null {
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== TOPIC_ROOT || !AGENT_ID.test(parts[1]!)) return null;
  if (parts[2] !== 'events' && parts[2] !== 'status') return null;
  return { agentId: parts[1]!, kind: parts[2] };
}

/** A usable agent id from anything (a host name may hold characters a topic level must not). */
export function toAgentId(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
  return cleaned || 'agent';
}

export function localOrigin(agentId: string): EventOrigin {
  return { agentId, hostname: os.hostname() };
}

/**
 * The message for a forwarded event. One over MAX_MESSAGE_BYTES (stored before the caps existed) is cut to the caps
 * the receiver applies anyway, each cut saying so in the event, and `onCut` told which parts: it arrives, not dropped.
 */
export function encodeEvent(e: PanoptesEvent, origin: EventOrigin, onCut?: (parts: string[]) => void): string {
  const { id, ts, receivedAt, source, type, title, body, url, fields, tags } = e;
  const json = JSON.stringify({ id, ts, receivedAt, source, type, title, body, url, fields, tags, origin });
  // A UTF-16 unit takes at most 3 bytes in UTF-8: most messages are measured without counting their bytes.
  if (json.length * 3 <= MAX_MESSAGE_BYTES || Buffer.byteLength(json) <= MAX_MESSAGE_BYTES) return json;
  const capped = normalizeNewEvent({ type, ts, title, body, url, fields, tags }, onCut);
  return JSON.stringify({ id, ts: capped.ts, receivedAt, source, type, title: capped.title, body: capped.body, url: capped.url, fields: capped.fields, tags: capped.tags, origin });
}

const wireEvent = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{10,64}$/, 'id is not an event id'),
  ts: z.string().max(64),
  source: z.string().min(1).max(200),
  type: z.string().max(200),
  title: z.string().optional(),
  body: z.string().optional(),
  url: z.string().max(8_192).nullable().optional(),
  fields: z.record(z.string(), z.unknown()).optional(),
  tags: z.array(z.string().max(200)).max(200).optional(),
  origin: z.object({ hostname: z.string().max(255).optional() }).loose().optional(),
});

/**
 * A received forwarded event, ready for `engine.ingest`: its id kept (so a redelivery is dropped), its origin
 * taken from the topic it came on (an agent cannot speak for another's id), received now.
 */
export function decodeEvent(payload: Buffer, topicAgentId: string): PanoptesEvent {
  if (payload.length > MAX_MESSAGE_BYTES) throw new Error(`message of ${payload.length} bytes is larger than ${MAX_MESSAGE_BYTES}`);
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new Error('payload is not JSON');
  }
  const r = wireEvent.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`not a Panoptes event: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const w = r.data;
  const n = normalizeNewEvent({
    type: w.type,
    ts: w.ts,
    title: w.title ?? '',
    body: w.body ?? '',
    url: w.url ?? null,
    fields: w.fields ?? {},
    tags: w.tags ?? [],
  });
  return { id: w.id, receivedAt: new Date().toISOString(), source: w.source, ...n, origin: { agentId: topicAgentId, hostname: w.origin?.hostname ?? '' } };
}

export type { AgentInventory, InventoryMonitor } from '../../core/protocol.js';
import type { AgentInventory } from '../../core/protocol.js';

export interface AgentStatus extends AgentInventory {
  state: 'online' | 'offline';
  agentId: string;
  hostname: string;
  at: string;
  reason?: string;
  version?: string;
}

export function encodeStatus(s: AgentStatus): string {
  return JSON.stringify(s);
}

const wireStatus = z.object({
  state: z.enum(['online', 'offline']),
  hostname: z.string().max(255).optional(),
  at: z.string().max(64).optional(),
  reason: z.string().max(500).optional(),
  version: z.string().max(100).optional(),
  release: z.string().max(200).optional(),
  os: z.string().max(200).optional(),
  uptime: z.number().nonnegative().optional(),
  hostUptime: z.number().nonnegative().optional(),
  startedAt: z.string().max(64).optional(),
  monitors: z
    .array(z.object({ id: z.string().max(200), type: z.string().max(100), name: z.string().max(200), enabled: z.boolean(), status: z.string().max(40), message: z.string().max(500).nullable() }))
    .max(1_000)
    .optional(),
  queue: z.number().int().nonnegative().optional(),
  lastEvent: z.object({ ts: z.string().max(64), type: z.string().max(200), title: z.string().max(500) }).nullable().optional(),
  paused: z.boolean().optional(),
});

/** A status message, or null when it is empty (a cleared retained status) or not ours. */
export function decodeStatus(payload: Buffer, topicAgentId: string): AgentStatus | null {
  if (!payload.length || payload.length > 64 * 1024) return null;
  try {
    const r = wireStatus.safeParse(JSON.parse(payload.toString('utf8')));
    if (!r.success) return null;
    const s: AgentStatus = { state: r.data.state, agentId: topicAgentId, hostname: r.data.hostname ?? '', at: r.data.at ?? new Date().toISOString() };
    if (r.data.reason) s.reason = r.data.reason;
    if (r.data.version) s.version = r.data.version;
    for (const k of ['release', 'os', 'uptime', 'hostUptime', 'startedAt', 'monitors', 'queue', 'lastEvent', 'paused'] as const) {
      if (r.data[k] !== undefined) (s as unknown as Record<string, unknown>)[k] = r.data[k];
    }
    return s;
  } catch {
    return null;
  }
}
