// Remote configuration over the broker: what the desktop sends an agent (its monitors and local rules as a whole,
// signed) and what the agent answers (its configuration as it now stands, with the outcome of the last change).
//
// Trust: at deploy time the agent is given its desktop's Ed25519 public key and a pairing id (a random name for this
// deployment). A change is accepted only when its signature verifies with that key, it names this agent and this
// pairing (a message signed for another agent or an earlier deployment is refused), and its sequence number is above
// every one the agent has seen (a replayed message is refused). Signatures cover the exact payload bytes, so no
// canonical JSON is needed.
//
// Topics: `panoptes/<agent>/config/set` (desktop → agent, retained: an agent that was away gets the latest change
// when it subscribes again) and `panoptes/<agent>/config/state` (agent → desktop, retained: the desktop learns every
// agent's configuration and the fate of its last change whenever it connects).
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { TOPIC_ROOT } from '../forwarding/wire.js';

export const configSetTopic = (agentId: string) => `${TOPIC_ROOT}/${agentId}/config/set`;
export const configStateTopic = (agentId: string) => `${TOPIC_ROOT}/${agentId}/config/state`;
export const ALL_CONFIG_STATES = `${TOPIC_ROOT}/+/config/state`;
export const ALL_CONFIG_SETS = `${TOPIC_ROOT}/+/config/set`;

/** `panoptes/<agent>/config/(set|state)` → its parts, or null. */
export function parseConfigTopic(topic: string): { agentId: string; kind: 'set' | 'state' } | null {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== TOPIC_ROOT || parts[2] !== 'config') return null;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(parts[1]!)) return null;
  if (parts[3] !== 'set' && parts[3] !== 'state') return null;
  return { agentId: parts[1]!, kind: parts[3] };
}

/** A configuration message larger than this is refused unread. */
export const MAX_CONFIG_BYTES = 2 * 1024 * 1024;

/** What a change carries (the signed bytes are this, as JSON). */
export const changeSchema = z.object({
  v: z.literal(1),
  agentId: z.string().max(64),
  pairing: z.string().max(100),
  /** Above every sequence number this agent has seen from its desktop. */
  seq: z.number().int().positive(),
  /** The agent's configuration revision the change was prepared from (its `rev` in the state it published). */
  base: z.number().int().nonnegative(),
  issuedAt: z.string().max(64),
  /** The agent's monitors and local rules as they are to be (whole lists: what is left out is removed). */
  monitors: z.array(z.looseObject({ id: z.string(), type: z.string(), name: z.string() })).max(5_000),
  rules: z.array(z.looseObject({ id: z.string() })).max(20_000),
  /**
   * Pause (true) or resume (false) all its monitors, as the tray's "Pause all monitors" does there; absent: leave it as
   * it is. A later change carries the latest pause along, since only the latest change waits on the broker.
   */
  paused: z.boolean().optional(),
});
export type ConfigChange = z.infer<typeof changeSchema>;

const envelopeSchema = z.object({ payload: z.string().max(MAX_CONFIG_BYTES * 2), sig: z.string().max(200) });

/** A public key as carried in configuration: the raw 32 bytes of an Ed25519 key, base64url. */
export function publicKeyText(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' }) as { x?: string };
  if (!jwk.x) throw new Error('not an Ed25519 key');
  return jwk.x;
}

export function publicKeyFromText(text: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: text }, format: 'jwk' });
}

/** A short name for a key, to show and compare (not a secret). */
export function keyIdOf(publicKey: string): string {
  return createHash('sha256').update(publicKey).digest('base64url').slice(0, 12);
}

/** What the desktop sends (a change, a question): its JSON bytes and their signature, in an envelope. */
function signEnvelope(value: object, privateKey: KeyObject): string {
  const payload = Buffer.from(JSON.stringify(value), 'utf8');
  return JSON.stringify({ payload: payload.toString('base64'), sig: sign(null, payload, privateKey).toString('base64') });
}

export function signChange(change: ConfigChange, privateKey: KeyObject): string {
  return signEnvelope(change, privateKey);
}

/** Thrown for a message that is not a change from the paired desktop; the reason is said back to the desktop. */
export class ChangeRefused extends Error {
  constructor(message: string, readonly seq: number | null = null) {
    super(message);
    this.name = 'ChangeRefused';
  }
}

/** The signed bytes of an envelope from the paired desktop (`what` names it in the refusal). */
function openEnvelope(raw: Buffer, publicKey: KeyObject, what: string): Buffer {
  if (raw.length > MAX_CONFIG_BYTES) throw new ChangeRefused(`a ${what} of ${raw.length} bytes is over the limit of ${MAX_CONFIG_BYTES}`);
  let env: z.infer<typeof envelopeSchema>;
  try {
    const r = envelopeSchema.safeParse(JSON.parse(raw.toString('utf8')));
    if (!r.success) throw new Error();
    env = r.data;
  } catch {
    throw new ChangeRefused(`not a signed ${what}`);
  }
  const payload = Buffer.from(env.payload, 'base64');
  let good = false;
  try {
    good = verify(null, payload, publicKey, Buffer.from(env.sig, 'base64'));
  } catch {
    good = false;
  }
  if (!good) throw new ChangeRefused('its signature is not from the desktop this agent is paired with');
  return payload;
}

/** Check a change message's signature with the paired desktop's key and return what it carries. */
export function openChange(raw: Buffer, publicKey: KeyObject): ConfigChange {
  const payload = openEnvelope(raw, publicKey, 'configuration message');
  let change: ConfigChange;
  try {
    const r = changeSchema.safeParse(JSON.parse(payload.toString('utf8')));
    if (!r.success) throw new ChangeRefused(`a signed change this agent cannot read: ${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`);
    change = r.data;
  } catch (err) {
    if (err instanceof ChangeRefused) throw err;
    throw new ChangeRefused('a signed change that is not JSON');
  }
  return change;
}

export type ChangeOutcome = 'applied' | 'refused';

/** What the agent publishes (retained) about its configuration. */
export interface ConfigState {
  agentId: string;
  pairing: string;
  /** The desktop key it takes changes from (its id, not the key). */
  controller: string;
  /** Its configuration's revision: moves with every change, made here or sent. */
  rev: number;
  /** The highest change sequence number seen from the desktop (a new change must be above it). */
  seenSeq: number;
  monitors: Record<string, unknown>[];
  rules: Record<string, unknown>[];
  /** All its monitors are paused (from here, or on that machine). Absent from agents older than remote pausing. */
  paused?: boolean;
  /** The last change it was sent and what became of it. */
  last: { seq: number | null; outcome: ChangeOutcome; reason: string | null; at: string; rev: number } | null;
  at: string;
}

const stateSchema = z.object({
  pairing: z.string().max(100),
  controller: z.string().max(100),
  rev: z.number().int().nonnegative(),
  seenSeq: z.number().int().nonnegative(),
  monitors: z.array(z.record(z.string(), z.unknown())).max(5_000),
  rules: z.array(z.record(z.string(), z.unknown())).max(20_000),
  paused: z.boolean().optional(),
  last: z
    .object({ seq: z.number().int().nullable(), outcome: z.enum(['applied', 'refused']), reason: z.string().max(2_000).nullable(), at: z.string().max(64), rev: z.number().int() })
    .nullable(),
  at: z.string().max(64),
});

/** An agent's published configuration state, or null when it is empty (cleared) or unreadable. */
export function decodeConfigState(payload: Buffer, agentId: string): ConfigState | null {
  if (!payload.length || payload.length > MAX_CONFIG_BYTES) return null;
  try {
    const r = stateSchema.safeParse(JSON.parse(payload.toString('utf8')));
    return r.success ? { agentId, ...r.data } : null;
  } catch {
    return null;
  }
}

// --- What agents say, signed by the agent ---
//
// Each agent has its own Ed25519 key pair (`agent-key` in its data folder, 0600); `panoptes deploy` reads its public
// half into the desktop's record of the pairing (`fleet-agents.json`). Everything an agent says on the broker — its
// configuration state, its status, its answers — carries a signature, so a broker user who may publish on the
// agent's topics cannot speak for it. The signature is one more field at the end of the JSON object (`"sig"`),
// covering the bytes of the object without it: the messages stay what other readers of the broker (a Node-RED flow,
// Home Assistant, an older desktop) already parse, and no canonical JSON is needed.

const SIG_TAIL = /,?"sig":"([A-Za-z0-9+/]{80,100}={0,2})"\}$/;

/** `value` (a plain object without a `sig` key) as JSON with its signature as the last field. */
export function signedJson(value: object, privateKey: KeyObject): string {
  const text = JSON.stringify(value);
  if (!text.startsWith('{') || text === '{}') throw new Error('only a non-empty object can be signed');
  const sig = sign(null, Buffer.from(text, 'utf8'), privateKey).toString('base64');
  return `${text.slice(0, -1)},"sig":"${sig}"}`;
}

/** Does `payload` carry a signature by `publicKey` over the rest of it? 'unsigned' when it has none at all. */
export function checkSignedJson(payload: Buffer | string, publicKey: KeyObject): 'good' | 'bad' | 'unsigned' {
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  const m = SIG_TAIL.exec(text);
  if (!m) return 'unsigned';
  const signed = text.slice(0, m.index) + '}';
  try {
    return verify(null, Buffer.from(signed, 'utf8'), publicKey, Buffer.from(m[1]!, 'base64')) ? 'good' : 'bad';
  } catch {
    return 'bad';
  }
}

// --- Questions the desktop asks an agent, and its answers ---
//
// "Test now" on a monitor of that machine, "Check now" of one of its monitors, its recent events, its monitors'
// health: a request is signed by the
// desktop like a change (same key, same pairing check), carries an id and a time limit, and is never retained (an
// agent that is away does not get a question nobody waits for any more). The answer names the request's id and is
// signed by the agent. Neither side keeps state beyond the questions in flight.

export const askTopic = (agentId: string) => `${TOPIC_ROOT}/${agentId}/ask`;
export const answerTopic = (agentId: string) => `${TOPIC_ROOT}/${agentId}/answer`;
export const ALL_ANSWERS = `${TOPIC_ROOT}/+/answer`;

/** `panoptes/<agent>/answer` → the agent, or null. */
export function parseAnswerTopic(topic: string): string | null {
  const parts = topic.split('/');
  return parts.length === 3 && parts[0] === TOPIC_ROOT && parts[2] === 'answer' && /^[A-Za-z0-9._-]{1,64}$/.test(parts[1]!) ? parts[1]! : null;
}

/** An answer larger than this is not sent: lists are cut to fit and say so. */
export const MAX_ANSWER_BYTES = 1024 * 1024;
/** A question names its time limit; the agent gives up on it after that, and never waits longer than this. */
export const MAX_ASK_MS = 60_000;

export const ASK_METHODS = ['monitors.test', 'events.recent', 'monitors.health', 'monitors.checkNow'] as const;
export type AskMethod = (typeof ASK_METHODS)[number];

export const askSchema = z.object({
  v: z.literal(1),
  kind: z.literal('ask'),
  agentId: z.string().max(64),
  pairing: z.string().max(100),
  id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
  method: z.enum(ASK_METHODS),
  params: z.record(z.string(), z.unknown()),
  issuedAt: z.string().max(64),
  timeoutMs: z.number().int().positive().max(MAX_ASK_MS),
});
export type Ask = z.infer<typeof askSchema>;

export function signAsk(ask: Ask, privateKey: KeyObject): string {
  return signEnvelope(ask, privateKey);
}

/** A question's signature checked with the paired desktop's key, and what it asks. */
export function openAsk(raw: Buffer, publicKey: KeyObject): Ask {
  const payload = openEnvelope(raw, publicKey, 'question');
  try {
    const r = askSchema.safeParse(JSON.parse(payload.toString('utf8')));
    if (r.success) return r.data;
  } catch {
    /* said below */
  }
  throw new ChangeRefused('a signed message that is not a question this agent knows');
}

export interface Answer {
  v: 1;
  kind: 'answer';
  agentId: string;
  pairing: string;
  id: string;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
  at: string;
}

const answerSchema = z.object({
  v: z.literal(1),
  kind: z.literal('answer'),
  agentId: z.string().max(64),
  pairing: z.string().max(100),
  id: z.string().max(64),
  ok: z.boolean(),
  result: z.unknown().optional(),
  error: z.object({ code: z.string().max(40), message: z.string().max(4_000) }).optional(),
  at: z.string().max(64),
});

export function decodeAnswer(payload: Buffer): Answer | null {
  if (!payload.length || payload.length > MAX_ANSWER_BYTES + 4_096) return null;
  try {
    const r = answerSchema.safeParse(JSON.parse(payload.toString('utf8')));
    return r.success ? (r.data as Answer) : null;
  } catch {
    return null;
  }
}
