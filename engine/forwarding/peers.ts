// The other Panoptes instances this one has heard from, for the settings' "Machines" status: online or offline
// (from their retained status and last will) and when they were last heard from. Kept in the store's kv table so
// a restart (of forwarding or of the app) still knows who is out there and since when they are silent.
import type { KvTable } from '../../core/store/misc-stores.js';
import type { ForwardingPeer, MachineRefusal } from '../../core/protocol.js';
import type { AgentStatus } from './wire.js';

const PEERS_KEY = 'forwarding:peers';
const REFUSED_KEY = 'forwarding:refused';
/** Refused messages kept per machine (a forger publishing in a loop must not grow it). */
const KEEP_REFUSED = 20;
/** "Last seen" moves with every event; writing it down that often would cost a write per event. */
const SAVE_EVERY_MS = 10_000;
/** A peer's clock may run ahead of ours: never show a "last seen" in our future. */
const clampToNow = (iso: string, now: number) => {
  const t = Date.parse(iso);
  return Number.isFinite(t) && t <= now ? new Date(t).toISOString() : new Date(now).toISOString();
};

const INVENTORY_KEYS = ['version', 'release', 'os', 'uptime', 'hostUptime', 'startedAt', 'monitors', 'queue', 'lastEvent', 'paused'] as const;

/** The inventory fields of a status or a saved peer (nothing else). */
function inventoryOf(s: Partial<Record<(typeof INVENTORY_KEYS)[number], unknown>>): Partial<ForwardingPeer> {
  const out: Record<string, unknown> = {};
  for (const k of INVENTORY_KEYS) if (s[k] !== undefined) out[k] = s[k];
  return out as Partial<ForwardingPeer>;
}

export class PeerBook {
  private readonly peers = new Map<string, ForwardingPeer>();
  private saveTimer: NodeJS.Timeout | null = null;
  private readonly refusals = new Map<string, MachineRefusal[]>();

  constructor(private readonly kv: KvTable, private readonly onChange: () => void = () => {}) {
    const refused = kv.get<Record<string, MachineRefusal[]>>(REFUSED_KEY) ?? {};
    for (const [id, list] of Object.entries(refused)) if (Array.isArray(list)) this.refusals.set(id, list.slice(0, KEEP_REFUSED));
    const saved = kv.get<Record<string, ForwardingPeer>>(PEERS_KEY) ?? {};
    for (const [id, p] of Object.entries(saved)) {
      if (p && typeof p === 'object' && (p.state === 'online' || p.state === 'offline')) {
        this.peers.set(id, { ...inventoryOf(p), agentId: id, hostname: String(p.hostname ?? ''), state: p.state, lastSeen: String(p.lastSeen ?? ''), reason: p.reason ?? null });
      }
    }
  }

  /** An event of this peer arrived. Its state is not changed: it may be a backlog the broker kept for us. */
  heard(agentId: string, hostname: string): void {
    const now = new Date().toISOString();
    const p = this.peers.get(agentId);
    if (!p) {
      this.peers.set(agentId, { agentId, hostname, state: 'online', lastSeen: now, reason: null });
      this.save();
    } else {
      p.lastSeen = now;
      if (hostname) p.hostname = hostname;
      this.saveSoon();
    }
    this.onChange();
  }

  /** A status message (retained, or the peer's last will). */
  status(s: AgentStatus): void {
    const at = clampToNow(s.at, Date.now());
    const p = this.peers.get(s.agentId);
    const lastSeen = p && p.lastSeen > at ? p.lastSeen : at;
    // Offline, the live figures go (uptime, queue); who it is and what it runs stay from the last online status.
    const inv = s.state === 'online' ? inventoryOf(s) : { ...(p ? inventoryOf(p) : {}), ...inventoryOf(s), uptime: undefined, queue: undefined };
    const next: ForwardingPeer = { ...inv, agentId: s.agentId, hostname: s.hostname || p?.hostname || '', state: s.state, lastSeen, reason: s.state === 'offline' ? (s.reason ?? null) : null };
    for (const k of Object.keys(next) as (keyof ForwardingPeer)[]) if (next[k] === undefined) delete next[k];
    this.peers.set(s.agentId, next);
    this.save();
    this.onChange();
  }

  /** A machine that was undeployed (its retained status cleared): it leaves the list. */
  forget(agentId: string): void {
    if (!this.peers.delete(agentId)) return;
    this.save();
    this.onChange();
  }

  /** A machine forgotten by the user (gone for good): its entry and its log of refusals go. */
  drop(agentId: string): void {
    this.peers.delete(agentId);
    if (this.refusals.delete(agentId)) {
      try {
        this.kv.set(REFUSED_KEY, Object.fromEntries(this.refusals));
      } catch {
        /* the store is closing */
      }
    }
    this.save();
    this.onChange();
  }

  /**
   * A message in this machine's name was refused (`what` it was, `why`): kept, newest first, for its entry in Machines
   * — the receiver's last error alone loses all but one, and mixes machines. Written at once: refusals are rare, and
   * one in a loop only rewrites the same short list.
   */
  refused(agentId: string, what: string, why: string): void {
    const list = [{ at: new Date().toISOString(), what, why }, ...(this.refusals.get(agentId) ?? [])].slice(0, KEEP_REFUSED);
    this.refusals.set(agentId, list);
    try {
      this.kv.set(REFUSED_KEY, Object.fromEntries(this.refusals));
    } catch {
      /* the store is closing */
    }
    this.onChange();
  }

  list(): ForwardingPeer[] {
    return [...this.peers.values()]
      .sort((a, b) => a.agentId.localeCompare(b.agentId))
      .map((p) => {
        const refused = this.refusals.get(p.agentId);
        return refused?.length ? { ...p, refused: [...refused] } : { ...p };
      });
  }

  private saveSoon(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => this.save(), SAVE_EVERY_MS);
    this.saveTimer.unref?.();
  }

  /** Write the book down now (also at shutdown). */
  save(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    try {
      this.kv.set(PEERS_KEY, Object.fromEntries(this.peers));
    } catch {
      /* the store is closing: the next start reads what was saved before */
    }
  }
}
