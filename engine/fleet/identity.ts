// The desktop's identity towards its agents: an Ed25519 key pair made on first use and kept in the data folder as
// `fleet-key` (0600, like `agent-token`), so `panoptes deploy` can hand its public half to a new agent whether or not
// the app runs. Only the public key ever leaves this machine.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkSignedJson, keyIdOf, publicKeyFromText, publicKeyText } from './wire.js';
import { checkSeal, SealCache } from './seal.js';
import { FreshnessBook, stampOf } from './freshness.js';
import type { KvTable } from '../../core/store/misc-stores.js';

export interface FleetIdentity {
  privateKey: KeyObject;
  /** Base64url of the raw public key, as written into an agent's configuration. */
  publicKey: string;
  keyId: string;
}

export const FLEET_KEY_FILE = 'fleet-key';

function fromPrivate(privateKey: KeyObject): FleetIdentity {
  const publicKey = publicKeyText(createPublicKey(privateKey));
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/**
 * This data folder's fleet key, or null when it has none: a desktop that only receives events, or has deployed
 * nothing yet, has no use for a private key, so reading never makes one.
 */
export function loadIdentity(dataDir: string): FleetIdentity | null {
  const file = path.join(dataDir, FLEET_KEY_FILE);
  if (!existsSync(file)) return null;
  chmodSync(file, 0o600);
  try {
    return fromPrivate(createPrivateKey(readFileSync(file, 'utf8')));
  } catch (err) {
    // Never replace a key silently: every agent paired with it would stop taking changes.
    throw new Error(`${file} is not a usable key (${(err as Error).message}); restore it from a backup, or remove it and deploy your agents again`);
  }
}

/** This data folder's fleet key, made (and written 0600) when there is none yet: deploying an agent pairs it with it. */
export function loadOrCreateIdentity(dataDir: string): FleetIdentity {
  const file = path.join(dataDir, FLEET_KEY_FILE);
  const known = loadIdentity(dataDir);
  if (known) return known;
  return createKeyFile(file);
}

// --- The agent's own key, and the desktop's record of its agents' keys ---

/** An agent's private key (Ed25519, PEM, 0600 in its data folder): what it says on the broker is signed with it. */
export const AGENT_KEY_FILE = 'agent-key';

/**
 * This agent's key, made (0600) when there is none: `panoptes deploy` makes it on install or upgrade and reads its
 * public half; an agent paired another way makes its own at start (its desktop then learns it at the next deploy
 * --upgrade, and until then cannot tell its answers from forged ones).
 */
export function loadOrCreateAgentKey(dataDir: string): FleetIdentity {
  const file = path.join(dataDir, AGENT_KEY_FILE);
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    try {
      return fromPrivate(createPrivateKey(readFileSync(file, 'utf8')));
    } catch (err) {
      throw new Error(`${file} is not a usable key (${(err as Error).message}); remove it and run panoptes deploy --upgrade for this agent from its desktop`);
    }
  }
  return createKeyFile(file);
}

/** The desktop's record of the agents paired with it: each one's public key and pairing id, as deploy read them. */
export const FLEET_AGENTS_FILE = 'fleet-agents.json';

const TIMED_SEALS_KEY = 'fleet:timedSeals';

export interface KnownAgent {
  publicKey: string;
  pairing: string;
  at: string;
}

function readKnownAgents(file: string): Record<string, KnownAgent> {
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return {};
    const out: Record<string, KnownAgent> = {};
    for (const [id, v] of Object.entries(doc as Record<string, unknown>)) {
      const a = v as Partial<KnownAgent> | null;
      if (a && typeof a.publicKey === 'string' && /^[A-Za-z0-9_-]{43}$/.test(a.publicKey) && typeof a.pairing === 'string') out[id] = { publicKey: a.publicKey, pairing: a.pairing, at: String(a.at ?? '') };
    }
    return out;
  } catch {
    return {};
  }
}

/** Record (or replace) an agent's key: called by deploy (the CLI and the form) once the agent is installed. */
export function rememberAgentKey(dataDir: string, agentId: string, agent: { publicKey: string; pairing: string }): void {
  const file = path.join(dataDir, FLEET_AGENTS_FILE);
  const all = readKnownAgents(file);
  all[agentId] = { publicKey: agent.publicKey, pairing: agent.pairing, at: new Date().toISOString() };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(all, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/**
 * After a deploy or an upgrade: the agent's key is recorded when the agent takes its changes from this desktop (an
 * agent paired with another desktop keeps answering that one). Says whether it was recorded.
 */
export function rememberDeployed(dataDir: string, r: { agentId: string; agentKey: string | null; controller: { publicKey: string; pairing: string } | null }, desktopPublicKey: string): boolean {
  if (!r.agentKey || !r.controller || r.controller.publicKey !== desktopPublicKey) return false;
  rememberAgentKey(dataDir, r.agentId, { publicKey: r.agentKey, pairing: r.controller.pairing });
  return true;
}

/** Forget an agent's key (undeployed). */
export function forgetAgentKey(dataDir: string, agentId: string): void {
  const file = path.join(dataDir, FLEET_AGENTS_FILE);
  const all = readKnownAgents(file);
  if (!(agentId in all)) return;
  delete all[agentId];
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(all, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/**
 * The agents' keys as the running desktop reads them: the file is read again when it changed (a deploy from the CLI
 * writes it while the app runs), so a fresh agent's answers verify without a restart.
 */
export class AgentKeys {
  private stamp = '';
  private known: Record<string, KnownAgent & { key: KeyObject }> = {};
  private readonly seals = new SealCache();
  private readonly fresh: FreshnessBook | null;
  /** Per agent, the key it was seen sealing with times (version-2 seals): from then on a seal without one is old. */
  private readonly timed: Record<string, string>;

  /** With the store's `kv`, what an agent keeps retained is also checked for being its newest (see freshness.ts). */
  constructor(private readonly dataDir: string, private readonly kv?: Pick<KvTable, 'get' | 'set'>) {
    this.fresh = kv ? new FreshnessBook(kv) : null;
    let timed: unknown = null;
    try {
      timed = kv?.get<unknown>(TIMED_SEALS_KEY);
    } catch {
      /* none kept */
    }
    this.timed = timed && typeof timed === 'object' && !Array.isArray(timed) ? { ...(timed as Record<string, string>) } : {};
  }

  get(agentId: string): (KnownAgent & { key: KeyObject }) | null {
    const file = path.join(this.dataDir, FLEET_AGENTS_FILE);
    let stamp = 'none';
    try {
      const st = statSync(file);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      /* no agents recorded */
    }
    if (stamp !== this.stamp) {
      this.stamp = stamp;
      this.known = {};
      for (const [id, a] of Object.entries(stamp === 'none' ? {} : readKnownAgents(file))) {
        try {
          this.known[id] = { ...a, key: publicKeyFromText(a.publicKey) };
        } catch {
          /* a key that does not load verifies nothing */
        }
      }
    }
    return this.known[agentId] ?? null;
  }

  /**
   * Is this message (`what`, as said in a refusal) from the agent? With its key known, only when signed with it;
   * with none known (deployed before agents had keys, or not from here), taken as it is, and `signed` says so.
   */
  check(agentId: string, payload: Buffer, what: string): { ok: true; signed: boolean } | { ok: false; message: string } {
    const known = this.get(agentId);
    if (!known) return { ok: true, signed: false };
    const r = checkSignedJson(payload, known.key);
    if (r === 'good') return { ok: true, signed: true };
    return { ok: false, message: `the ${what} of ${agentId} was refused: it is not signed by ${agentId}'s key (read when it was deployed)${r === 'unsigned' ? ' and carries no signature' : ''}; someone else on the broker published it, or ${agentId} was set up again without panoptes deploy` };
  }

  /**
   * Is this retained message (`what`: its status, its configuration state) the agent's own and its newest? Signed as
   * `check` asks, and, once signed, not older than the newest one taken: a signed message recorded earlier and
   * published again is refused.
   */
  checkState(agentId: string, payload: Buffer, what: string): { ok: true; signed: boolean } | { ok: false; message: string } {
    const r = this.check(agentId, payload, what);
    if (!r.ok || !r.signed || !this.fresh) return r;
    const fresh = this.fresh.check(agentId, what, this.get(agentId)!.publicKey, stampOf(payload.toString('utf8')));
    return fresh.ok ? r : fresh;
  }

  /**
   * May an empty retained message (`what`: its status or configuration state cleared) drop this agent? Not while its
   * key is recorded here: the desktop's own undeploy forgets the key before it clears them, and anyone else on the
   * broker can publish an empty message.
   */
  checkEmpty(agentId: string, what: string): { ok: true } | { ok: false; message: string } {
    if (!this.get(agentId)) return { ok: true };
    return { ok: false, message: `an empty ${what} for ${agentId} (which would take it off the list) was ignored: ${agentId} was deployed from here and its key is still recorded, so only its undeploy from here removes it; someone else on the broker published it` };
  }

  /**
   * Is this forwarded event from the agent? With its key known, only when its batch seal verifies (see seal.ts);
   * `sealedAt` is then the signed time of sealing (null for a seal from an agent older than that).
   */
  checkEvent(agentId: string, payload: Buffer): { ok: true; signed: boolean; sealedAt?: number | null } | { ok: false; message: string } {
    const known = this.get(agentId);
    if (!known) return { ok: true, signed: false };
    const into = { t: null as number | null };
    const r = checkSeal(payload, agentId, known.key, known.publicKey, this.seals, into);
    if (r === 'good' && into.t === null && this.timed[agentId] === known.publicKey) {
      // Recorded before the agent was upgraded, published now: without a time it cannot be told from a replay.
      return { ok: false, message: `an event forwarded as ${agentId}'s was refused: its seal carries no time, and ${agentId} has sealed with times since it was upgraded — someone on the broker published one recorded before that` };
    }
    if (r === 'good') {
      if (into.t !== null && this.kv && this.timed[agentId] !== known.publicKey) {
        this.timed[agentId] = known.publicKey;
        try {
          this.kv.set(TIMED_SEALS_KEY, this.timed);
        } catch {
          /* the store is closing: this run still knows */
        }
      }
      return { ok: true, signed: true, sealedAt: into.t };
    }
    return { ok: false, message: `an event forwarded as ${agentId}'s was refused: it is not sealed by ${agentId}'s key (read when it was deployed)${r === 'unsealed' ? ' and carries no seal' : ''}; someone else on the broker published it, or ${agentId} was set up again without panoptes deploy` };
  }
}

/** A new Ed25519 key written 0600 through a temporary file, so a crash never leaves half a key. */
function createKeyFile(file: string): FleetIdentity {
  const { privateKey } = generateKeyPairSync('ed25519');
  const tmp = file + '.tmp';
  writeFileSync(tmp, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return fromPrivate(privateKey);
}
