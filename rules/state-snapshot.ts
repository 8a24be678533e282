/**
 * The engine's temporal state (windows, absences, `after` deadlines, sequences, throttles, digests) as JSON, and
 * back. Timer order (`seq`) is saved but only meaningful within one process: the engine renumbers on restore.
 */
import { newState, type Absence, type RuleState } from './compiled-rule.js';
import type { EventRef } from './types.js';

function snapshotOne(st: RuleState): unknown {
  return {
    sig: st.sig,
    enabledAt: st.enabledAt,
    windows: [...st.windows],
    absences: [...st.absences],
    after: [...st.after],
    seqs: [...st.seqs],
    throttle: [...st.throttle],
    digest: st.digest,
  };
}

export function snapshotStates(states: Map<string, RuleState>): unknown {
  const rules: Record<string, unknown> = {};
  for (const [id, st] of states) rules[id] = snapshotOne(st);
  return { version: 1, rules };
}

/** The states of `ids` alone, as `snapshotStates` has them; null for an id without a state. */
export function snapshotSome(states: Map<string, RuleState>, ids: Iterable<string>): Map<string, unknown | null> {
  const out = new Map<string, unknown | null>();
  for (const id of ids) {
    const st = states.get(id);
    out.set(id, st ? snapshotOne(st) : null);
  }
  return out;
}

/**
 * The states a snapshot holds, keeping those `keep(id, sig)` accepts; null when it is no snapshot this engine wrote.
 * A damaged entry loses only that rule's temporal state.
 */
export function statesFromSnapshot(snapshot: unknown, keep: (id: string, sig: string) => boolean): Map<string, RuleState> | null {
  const snap = snapshot as { version?: number; rules?: Record<string, Record<string, unknown>> } | null;
  if (!snap || snap.version !== 1 || !snap.rules || typeof snap.rules !== 'object') return null;
  const states = new Map<string, RuleState>();
  for (const [id, s] of Object.entries(snap.rules)) {
    try {
      const st = newState(String(s.sig));
      st.enabledAt = typeof s.enabledAt === 'number' ? s.enabledAt : null;
      st.windows = new Map(s.windows as [string, { times: number[]; events: EventRef[] }][]);
      st.absences = new Map(s.absences as [string, Absence][]);
      st.after = new Map(s.after as [string, { deadline: number; start: EventRef }][]);
      st.seqs = new Map(s.seqs as [string, ({ start: number; events: EventRef[] } | null)[]][]);
      st.throttle = new Map(s.throttle as [string, { last: number; suppressed: number }][]);
      st.digest = (s.digest as RuleState['digest']) ?? null;
      if (!keep(id, st.sig)) continue;
      states.set(id, st);
    } catch {
      // A damaged entry loses only that rule's temporal state.
    }
  }
  return states;
}
