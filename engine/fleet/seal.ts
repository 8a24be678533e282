// Forwarded events, sealed by the agent that made them — one signature per batch, not per event.
//
// Forwarding is the hot path: an Ed25519 signature costs this Node (OpenSSL 3) about 100–150 µs to make and more to
// check, as much as everything else an event costs on its way. So the forwarder signs each batch it reads from its
// log once: the batch's events are the leaves of a Merkle tree (SHA-256, leaves and inner nodes domain-separated),
// the agent signs the root, and every message carries the signature and its own path to the root. Each message still
// stands alone (the desktop can check it without the others, and mqtt.js may deliver them spread over time); the
// desktop checks a root's signature once and remembers the roots it verified, so a batch of n events costs one
// signature check and about log2(n) hashes per event.
//
// The seal is one more field at the end of the event's JSON object (`"seal"`), over the bytes before it, so readers
// that do not know it (an older desktop, a Node-RED flow) parse the event as before.
//
// The signed statement names the time the batch was sealed (`t`, the agent's clock, ms): the desktop drops a copy of
// an event by its id, but retention deletes old events and their ids with them, so a sealed message recorded by a
// broker user could come back as new once retention took it. With the time signed, the desktop refuses a sealed
// event from before what its retention deleted (engine/retention.ts, forwarding/receiver.ts). Seals of agents older
// than this have no `t` (statement version 1).
import { hash, sign, verify, type KeyObject } from 'node:crypto';

export interface Seal {
  /** This event's place in the batch, and the batch's size. */
  i: number;
  n: number;
  /** Sibling hashes from the leaf up (base64url), one per level where the node has a sibling. */
  p: string[];
  /** Ed25519 signature of the statement naming the agent, the batch size, the time and the root (base64). */
  s: string;
  /** When the batch was sealed (ms since the epoch, the agent's clock); absent from version-1 seals. */
  t?: number;
}

const NODE = Buffer.from([1]);
const leafHash = (text: string): Buffer => hash('sha256', '\x00' + text, 'buffer');
const nodeHash = (l: Buffer, r: Buffer): Buffer => hash('sha256', Buffer.concat([NODE, l, r], 65), 'buffer');
const statement = (agentId: string, n: number, t: number | undefined, root: Buffer) =>
  Buffer.from(t === undefined ? `panoptes-events/1 ${agentId} ${n} ${root.toString('base64url')}` : `panoptes-events/2 ${agentId} ${n} ${t} ${root.toString('base64url')}`, 'utf8');

/** `texts` (each a JSON object) sealed as one batch by `agentId`'s key, each with its seal as the last field. */
export function sealBatch(texts: string[], agentId: string, privateKey: KeyObject, t = Date.now()): string[] {
  const n = texts.length;
  if (!n) return [];
  const paths: string[][] = texts.map(() => []);
  // Which leaves each node of the current level covers, to hand its sibling to all of them.
  let level: Buffer[] = texts.map(leafHash);
  let covers = texts.map((_, i) => [i]);
  while (level.length > 1) {
    const next: Buffer[] = [];
    const nextCovers: number[][] = [];
    for (let j = 0; j < level.length; j += 2) {
      if (j + 1 === level.length) {
        // An odd node out goes up as it is (no sibling at this level).
        next.push(level[j]!);
        nextCovers.push(covers[j]!);
        continue;
      }
      const l = level[j]!;
      const r = level[j + 1]!;
      const rText = r.toString('base64url');
      const lText = l.toString('base64url');
      for (const i of covers[j]!) paths[i]!.push(rText);
      for (const i of covers[j + 1]!) paths[i]!.push(lText);
      next.push(nodeHash(l, r));
      nextCovers.push([...covers[j]!, ...covers[j + 1]!]);
    }
    level = next;
    covers = nextCovers;
  }
  const s = sign(null, statement(agentId, n, t, level[0]!), privateKey).toString('base64');
  return texts.map((text, i) => `${text.slice(0, -1)},"seal":${JSON.stringify({ i, n, p: paths[i]!, s, t } satisfies Seal)}}`);
}

const MAX_BATCH = 100_000;

/**
 * Roots whose signature checked out, so the rest of a batch costs hashes only. Bounded: the oldest go first (a
 * batch's messages arrive together).
 */
export class SealCache {
  private readonly good = new Set<string>();
  constructor(private readonly size = 256) {}
  has(k: string): boolean {
    return this.good.has(k);
  }
  add(k: string): void {
    this.good.add(k);
    if (this.good.size > this.size) this.good.delete(this.good.values().next().value!);
  }
}

/**
 * Is `payload` an event sealed by `publicKey` for `agentId`? 'unsealed' when it carries no seal at all. `keyText` names
 * the key in the cache (a new key for the agent does not inherit what the old one verified). When good, `into.t` is
 * the signed time of sealing (null for a version-1 seal, which has none).
 */
export function checkSeal(payload: Buffer | string, agentId: string, publicKey: KeyObject, keyText: string, cache: SealCache, into?: { t: number | null }): 'good' | 'bad' | 'unsealed' {
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  const at = text.lastIndexOf(',"seal":{');
  if (at < 0 || !text.endsWith('}}')) return 'unsealed';
  let seal: Seal;
  try {
    seal = JSON.parse(text.slice(at + 8, -1)) as Seal;
  } catch {
    return 'bad';
  }
  const { i, n, p, s, t } = seal ?? ({} as Seal);
  if (t !== undefined && (!Number.isSafeInteger(t) || t <= 0)) return 'bad';
  if (!Number.isInteger(n) || !Number.isInteger(i) || n < 1 || n > MAX_BATCH || i < 0 || i >= n || !Array.isArray(p) || p.length > 20 || typeof s !== 'string' || s.length > 100) return 'bad';
  let h = leafHash(text.slice(0, at) + '}');
  let idx = i;
  let size = n;
  let k = 0;
  while (size > 1) {
    const last = idx === size - 1 && size % 2 === 1;
    if (!last) {
      const sib = p[k++];
      if (typeof sib !== 'string') return 'bad';
      const b = Buffer.from(sib, 'base64url');
      if (b.length !== 32) return 'bad';
      h = idx % 2 === 0 ? nodeHash(h, b) : nodeHash(b, h);
    }
    idx = idx >> 1;
    size = Math.ceil(size / 2);
  }
  if (k !== p.length) return 'bad';
  const key = `${keyText} ${agentId} ${n} ${t ?? '-'} ${h.toString('base64url')} ${s}`;
  if (into) into.t = t ?? null;
  if (cache.has(key)) return 'good';
  let ok = false;
  try {
    ok = verify(null, statement(agentId, n, t, h), publicKey, Buffer.from(s, 'base64'));
  } catch {
    ok = false;
  }
  if (ok) cache.add(key);
  return ok ? 'good' : 'bad';
}
