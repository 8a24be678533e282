// Agent side of the desktop's questions: "Test now" on a monitor of this machine, its recent events, its monitors'
// health. A question is taken only when it is signed by the paired desktop for this agent and pairing, new (its id not
// seen before, and not from long ago), and it runs with this engine's own protocol handlers — the same dry run,
// event list and health the local UI gets — within the time limit it names. The answer is signed by this agent and
// capped in size (events cut as lists cut them, then fewer of them, saying how many were left out).
import type { KeyObject } from 'node:crypto';
import { forList } from '../../core/event-cap.js';
import type { PanoptesEvent } from '../../core/event.js';
import type { MonitorInfo } from '../../core/protocol.js';
import { secretFields } from '../../core/monitor-host.js';
import type { ForwardingHost } from '../forwarding/host.js';
import { ChangeRefused, MAX_ANSWER_BYTES, MAX_ASK_MS, openAsk, signedJson, type Answer, type Ask } from './wire.js';

/** A question older than this (by this machine's clock) is refused: a replay of one captured long ago. */
const MAX_AGE_MS = 10 * 60_000;
/**
 * Ids of questions answered, to refuse a replay of a recent one (bounded: older ids age out with MAX_AGE_MS). Kept in
 * the store too, so a question captured off the wire is not answered again after the agent restarts.
 */
const REMEMBER_IDS = 2_000;
const SEEN_KEY = 'fleet:answeredAsks';
/** Questions run at once at most; more are answered "busy" (a dry run may render a page in a browser). */
const AT_ONCE = 4;
/** Recent events: at most this many per question. */
const MAX_EVENTS = 100;

export interface AgentAsksOptions {
  host: ForwardingHost;
  agentId: string;
  pairing: string;
  desktopKey: KeyObject;
  agentKey: KeyObject;
  publish(payload: string): void;
  log: { warn(m: string): void; info(m: string): void };
}

class AskError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export class AgentAsks {
  private readonly seen = new Map<string, number>();
  private running = 0;

  constructor(private readonly o: AgentAsksOptions) {
    const now = Date.now();
    let saved: unknown = null;
    try {
      saved = o.host.store.kv.get<unknown>(SEEN_KEY);
    } catch {
      /* none saved */
    }
    if (saved && typeof saved === 'object' && !Array.isArray(saved)) {
      const entries = Object.entries(saved as Record<string, unknown>)
        .filter((e): e is [string, number] => typeof e[1] === 'number' && now - e[1] < MAX_AGE_MS)
        .sort((a, b) => a[1] - b[1])
        .slice(-REMEMBER_IDS);
      for (const [id, at] of entries) this.seen.set(id, at);
    }
  }

  handle(payload: Buffer): void {
    let ask: Ask;
    try {
      ask = openAsk(payload, this.o.desktopKey);
    } catch (err) {
      // Not from the paired desktop: logged here, not answered (nobody this agent trusts is waiting for it).
      if (err instanceof ChangeRefused) return this.o.log.warn(`refused a question: ${err.message}`);
      throw err;
    }
    const refuse = (message: string) => {
      this.o.log.warn(`refused question ${ask.id} (${ask.method}): ${message}`);
      this.answer(ask, { ok: false, error: { code: 'refused', message } });
    };
    if (ask.agentId !== this.o.agentId) return this.o.log.warn(`refused a question signed for agent ${ask.agentId}, not for ${this.o.agentId}`);
    if (ask.pairing !== this.o.pairing) return refuse('it was signed for an earlier deployment of this agent');
    const now = Date.now();
    const issued = Date.parse(ask.issuedAt);
    if (!Number.isFinite(issued) || now - issued > MAX_AGE_MS) return refuse(`it was asked more than ${MAX_AGE_MS / 60_000} minutes ago (a replay, or the clocks of the two machines differ that much)`);
    if (this.seen.has(ask.id)) return this.o.log.warn(`ignored question ${ask.id}: already answered (a replay)`);
    this.seen.set(ask.id, now);
    for (const [id, at] of this.seen) {
      if (this.seen.size <= REMEMBER_IDS && now - at < MAX_AGE_MS) break;
      this.seen.delete(id);
    }
    // Written before the question runs: a crash while answering must not let the same question in again.
    try {
      this.o.host.store.kv.set(SEEN_KEY, Object.fromEntries(this.seen));
    } catch (err) {
      this.o.log.warn(`could not save the ids of answered questions: ${(err as Error).message}`);
    }
    if (this.running >= AT_ONCE) return this.answer(ask, { ok: false, error: { code: 'busy', message: `${this.o.agentId} is answering ${AT_ONCE} questions already; ask again in a moment` } });
    this.running++;
    const limit = Math.min(ask.timeoutMs, MAX_ASK_MS);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AskError('timeout', `${this.o.agentId} did not finish within the question's ${Math.round(limit / 1000)} s`)), limit);
    });
    Promise.race([this.run(ask), late])
      .then(
        (result) => this.answer(ask, { ok: true, result }),
        (err: Error & { code?: string }) => this.answer(ask, { ok: false, error: { code: err instanceof AskError ? err.code : (err.code ?? 'failed'), message: err.message } }),
      )
      .finally(() => {
        clearTimeout(timer);
        this.running--;
      });
  }

  private async run(ask: Ask): Promise<unknown> {
    const host = this.o.host;
    if (!host.request) throw new AskError('unavailable', 'this agent cannot answer questions');
    const p = ask.params;
    if (ask.method === 'monitors.test') {
      const type = String(p.type ?? '');
      const def = this.o.host.definitions.get(type);
      if (!def) throw new AskError('invalid', `this agent has no monitor type "${type}" (upgrade it)`);
      const config = (p.config && typeof p.config === 'object' ? p.config : {}) as Record<string, unknown>;
      const sent = secretFields(def).filter((k) => config[k] !== undefined && config[k] !== '');
      if (sent.length) throw new AskError('invalid', `${sent.join(', ')} cannot be sent over the broker; set ${sent.length > 1 ? 'them' : 'it'} on that machine`);
      // With the id of a monitor there, its secrets stored there are used (never sent anywhere).
      const id = typeof p.id === 'string' && this.o.host.config.current.monitors.some((m) => m.id === p.id) ? p.id : undefined;
      const r = await host.request('monitors.test', { type, config, ...(id ? { id } : {}) });
      return { events: r.events.map(forList) };
    }
    if (ask.method === 'monitors.checkNow') {
      // Its next scheduled check, now: the same as the local Monitors list's "Check now" there.
      const id = String(p.id ?? '');
      const m = this.o.host.config.current.monitors.find((x) => x.id === id);
      if (!m) throw new AskError('invalid', `there is no monitor "${id}" on this machine`);
      const r = await host.request('monitors.checkNow', { id });
      if (r.started) return { started: true };
      const health = (await host.request('monitors.list', {})).find((x) => x.id === id)?.health;
      const why = !m.enabled
        ? 'it is paused'
        : this.o.host.paused
          ? 'all monitors there are paused'
          : health?.status === 'ok' || health?.status === 'degraded'
            ? 'it has no scheduled check to run early (it watches as things happen)'
            : 'it is not running';
      return { started: false, why };
    }
    if (ask.method === 'events.recent') {
      const limit = Math.max(1, Math.min(MAX_EVENTS, Number(p.limit) || 50));
      const source = typeof p.source === 'string' ? p.source : undefined;
      const page = await host.request('events.list', { limit, ...(source ? { source } : {}) });
      return { events: page.events.map(forList) };
    }
    const list: MonitorInfo[] = await host.request('monitors.list', {});
    return { monitors: list.map((m) => ({ id: m.id, type: m.type, name: m.name, enabled: m.enabled, health: m.health })) };
  }

  private answer(ask: Ask, outcome: Pick<Answer, 'ok' | 'result' | 'error'>): void {
    const base = { v: 1 as const, kind: 'answer' as const, agentId: this.o.agentId, pairing: this.o.pairing, id: ask.id, at: new Date().toISOString() };
    let text = signedJson({ ...base, ...outcome }, this.o.agentKey);
    if (text.length > MAX_ANSWER_BYTES) text = signedJson({ ...base, ...fit(outcome, text.length) }, this.o.agentKey);
    this.o.publish(text);
  }
}

/** An answer over the cap, made to fit: a list of events cut to the ones that fit (saying how many were left out). */
function fit(outcome: Pick<Answer, 'ok' | 'result' | 'error'>, size: number): Pick<Answer, 'ok' | 'result' | 'error'> {
  const events = (outcome.result as { events?: PanoptesEvent[] } | undefined)?.events;
  if (outcome.ok && Array.isArray(events)) {
    let keep = events.length;
    let sized = size;
    while (keep > 0 && sized > MAX_ANSWER_BYTES - 4_096) {
      keep = Math.floor((keep * (MAX_ANSWER_BYTES - 4_096)) / sized);
      sized = JSON.stringify(events.slice(0, keep)).length + 1_024;
    }
    return { ok: true, result: { ...(outcome.result as object), events: events.slice(0, keep), leftOut: events.length - keep } };
  }
  return { ok: false, error: { code: 'too_big', message: `the answer was ${size.toLocaleString('en')} bytes, over the ${MAX_ANSWER_BYTES.toLocaleString('en')} an answer may have` } };
}
